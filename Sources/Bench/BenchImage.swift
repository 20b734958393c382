import HostSystem
import ChildProcess
import Foundation
import Images

/// The benchmark's workload and the images made of it: the static C program
/// (`Workload/bench-workload.c`, compiled with gcc), a root filesystem holding it, that
/// tree as an OCI image layout (one uncompressed layer, OCI image spec v1.1
/// image-layout.md / manifest.md / config.md) which `swiftlet image load` imports, and an
/// initramfs overlay (newc cpio) for the QEMU peer. Every system runs this one binary.
public struct BenchImage: Sendable {
    /// The reference the image is loaded under.
    public static let reference = "swiftlet-bench/workload:latest"
    /// Where the workload sits in every root filesystem.
    public static let workloadPath = "/bench"

    /// The workload built for the host (the native baseline runs it directly).
    public let binary: String
    /// The unpacked root filesystem: /bench, /etc/passwd, /etc/group, /tmp, /data
    /// (rootfs disk tests), /vol (volume mount point), /proc, /sys, /dev.
    public let rootfs: String
    /// The OCI image layout directory.
    public let layout: String

    /// The artifacts `build` wrote under `directory` (reused inside scripts/kvm-rig).
    public init(directory: String) {
        binary = "\(directory)/bench-workload"
        rootfs = "\(directory)/rootfs"
        layout = "\(directory)/layout"
    }

    /// Compiles the workload and writes the rootfs, layer and layout under `directory`.
    public static func build(in directory: String) throws -> BenchImage {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = "\(directory)/bench-workload.c"
        try Data(PackageResources.bench_workload_c).write(to: URL(fileURLWithPath: source))
        let binary = "\(directory)/bench-workload"
        guard ChildProcess.locate("gcc") != nil else {
            throw SwiftletError("gcc is not installed (scripts/setup installs it): it builds the workload")
        }
        try Subprocess.run(["gcc", "-O2", "-static", "-o", binary, source])

        let rootfs = "\(directory)/rootfs"
        try? fm.removeItem(atPath: rootfs)
        for dir in ["etc", "tmp", "data", "vol", "proc", "sys", "dev"] {
            try fm.createDirectory(atPath: "\(rootfs)/\(dir)", withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: binary, toPath: "\(rootfs)\(workloadPath)")
        try Data("root:x:0:0:root:/:/bench\n".utf8).write(to: URL(fileURLWithPath: "\(rootfs)/etc/passwd"))
        try Data("root:x:0:\n".utf8).write(to: URL(fileURLWithPath: "\(rootfs)/etc/group"))
        try fm.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: "\(rootfs)/tmp")
        let layer = "\(directory)/layer.tar"
        try Subprocess.run(["tar", "--sort=name", "--numeric-owner", "--owner=0", "--group=0",
                            "--mtime=@1700000000", "-C", rootfs, "-cf", layer, "."])
        let layout = "\(directory)/layout"
        try writeLayout(layer: layer, to: layout)
        return BenchImage(directory: directory)
    }

    /// Writes an OCI image layout with one image (config, manifest, index) around `layer`.
    static func writeLayout(layer: String, to layout: String) throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: layout)
        let blobs = "\(layout)/blobs/sha256"
        try fm.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        func add(_ data: Data) throws -> (digest: String, size: Int) {
            let digest = Digest.of(data)
            try data.write(to: URL(fileURLWithPath: "\(blobs)/\(digest.hex)"))
            return (digest.description, data.count)
        }
        let layerData = try Data(contentsOf: URL(fileURLWithPath: layer))
        let layerBlob = try add(layerData)
        let config = try add(json([
            "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
            "config": ["Env": ["PATH=/"], "Cmd": [workloadPath, "start"], "WorkingDir": "/"],
            "rootfs": ["type": "layers", "diff_ids": [layerBlob.digest]],
        ]))
        let manifest = try add(json([
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.digest, "size": config.size],
            "layers": [["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerBlob.digest, "size": layerBlob.size]],
        ]))
        try json([
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [[
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest.digest, "size": manifest.size,
                "annotations": ["org.opencontainers.image.ref.name": reference],
                "platform": ["architecture": "amd64", "os": "linux"],
            ]],
        ]).write(to: URL(fileURLWithPath: "\(layout)/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(layout)/oci-layout"))
    }

    private static func json(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// `base` (a gzip'd newc initramfs) followed by a cpio holding the workload and the
    /// rootfs's directories: the kernel unpacks concatenated archives in order (Linux
    /// Documentation/driver-api/early-userspace/buffer-format.rst).
    public func initramfs(base: String, into output: String) throws -> String {
        let overlay = "\(output)/workload.cpio.gz"
        let list = "\(output)/cpio.list"
        try Data("bench\ndata\nvol\n".utf8).write(to: URL(fileURLWithPath: list))
        try Subprocess.run(["sh", "-c", "cd \"$0\" && cpio --quiet -o -H newc --reproducible < \"$1\" | gzip -n > \"$2\"",
                            rootfs, list, overlay])
        let combined = "\(output)/initramfs-with-workload.cpio.gz"
        var data = try Data(contentsOf: URL(fileURLWithPath: base))
        data.append(try Data(contentsOf: URL(fileURLWithPath: overlay)))
        try data.write(to: URL(fileURLWithPath: combined))
        return combined
    }
}
