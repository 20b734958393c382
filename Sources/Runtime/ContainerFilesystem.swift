import AgentProtocol
import Foundation
import HostSystem
import Images
#if canImport(Glibc)
import Glibc
#endif

/// Reading a container's file system from the host, for `diff`, `commit` and `export`
/// (Docker's semantics): its overlayfs upper directory — in the bundle for a namespace
/// container, inside its writable ext4 disk for a microVM container (mounted read-only
/// here while the container is stopped) — and the merged view of that upper over the
/// image's tree (a read-only overlay with two lower directories).
struct ContainerFilesystem {
    /// What the runtime itself puts in every container's upper directory, with everything
    /// under it: the /etc files and the mount points of /dev, /proc and /sys. Docker keeps
    /// the same things in a container's init layer or bind-mounts them, so they are never
    /// part of its changes.
    static let runtimeFiles: Set<String> = Set((ContainerEtcFiles.names + ["resolv.conf"]).map { "etc/\($0)" } + ["dev", "proc", "sys"])

    let config: ContainerConfig
    let bundle: ContainerBundle
    /// The image's unpacked tree (the lower layer of the container's overlay).
    let imageTree: String

    /// Runs `body` with the container's upper directory, and the changes over it.
    func withChanges<T>(_ body: (UpperChanges) throws -> T) throws -> T {
        try withUpper { upper in
            try body(UpperChanges(upper: upper, excluded: Self.runtimeFiles, idShift: config.idMapping.map { UInt32($0.hostUID) } ?? 0))
        }
    }

    /// Runs `body` with the merged tree as the container sees it (without its volumes).
    func withMergedTree<T>(_ body: (String) throws -> T) throws -> T {
        guard config.idMapping == nil else {
            throw SwiftletError("reading the files of a user-namespaced container (--userns=auto) from the host is not supported yet", code: .unavailable)
        }
        return try withUpper { upper in
            let merged = try temporaryDirectory("merged")
            defer { rmdir(merged) }
            try runTool("mount", ["-t", "overlay", "overlay", "-o", "ro,nosuid,nodev,lowerdir=\(upper):\(imageTree)", merged],
                        what: "mounting container \(config.id)'s file system")
            defer { Self.unmount(merged) }
            return try body(merged)
        }
    }

    /// Runs `body` with the stopped container's file system mounted writable (its own
    /// upper and work directories over the image's tree), as it will see it when it starts.
    func withWritableTree<T>(_ body: (String) throws -> T) throws -> T {
        guard config.idMapping == nil else {
            throw SwiftletError("writing into a user-namespaced container (--userns=auto) from the host is not supported yet", code: .unavailable)
        }
        return try withUpper(writable: true) { upper in
            let merged = try temporaryDirectory("merged")
            defer { rmdir(merged) }
            let work = (upper as NSString).deletingLastPathComponent + "/work"
            try runTool("mount", ["-t", "overlay", "overlay", "-o", "nosuid,nodev,lowerdir=\(imageTree),upperdir=\(upper),workdir=\(work)", merged],
                        what: "mounting container \(config.id)'s file system")
            defer { Self.unmount(merged) }
            return try body(merged)
        }
    }

    private func withUpper<T>(writable: Bool = false, _ body: (String) throws -> T) throws -> T {
        switch config.isolation {
        case .namespace:
            return try body(bundle.path("upper"))
        case .microvm:
            // The guest has the disk mounted while the VM runs; its page cache is not the
            // host's to read until the guest has written it back.
            let mountPoint = try temporaryDirectory("disk")
            defer { rmdir(mountPoint) }
            try runTool("mount", ["-t", "ext4", "-o", writable ? "loop,nosuid,nodev,noexec" : "loop,ro,noload,nosuid,nodev,noexec", bundle.path("disk.ext4"), mountPoint],
                        what: "mounting container \(config.id)'s disk")
            defer { Self.unmount(mountPoint) }
            return try body("\(mountPoint)/upper")
        }
    }

    private func temporaryDirectory(_ purpose: String) throws -> String {
        let path = bundle.path("\(purpose)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        guard mkdir(path, 0o700) == 0 else { throw SwiftletError("cannot create \(path)", errno: errno) }
        return path
    }

    private static func unmount(_ path: String) {
        if umount2(path, 0) != 0 { _ = umount2(path, Int32(MNT_DETACH)) }
    }
}
