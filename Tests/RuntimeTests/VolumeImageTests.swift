import HostSystem
import ChildProcess
import Foundation
@testable import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Named volumes as sparse ext4 images, and who may use one at a time.
@Suite struct VolumeImageTests {
    func store() throws -> (VolumeStore, String) {
        let root = NSTemporaryDirectory() + "swiftlet-volumes-\(UUID().uuidString)"
        return (try VolumeStore(root: root), root)
    }

    func config(_ id: String, _ isolation: Isolation, volume: String) throws -> ContainerConfig {
        ContainerConfig(id: id, name: id, image: "i", imageID: "sha256:0", rootfs: "/", process: ProcessSpec(args: ["true"], env: [], cwd: "/", user: ""),
                        hostname: "h", mounts: [MountSpec(volume: volume, source: "", image: nil, destination: "/data", readOnly: false)],
                        limits: ResourceLimits(), isolation: isolation, interactive: false, tty: false, autoRemove: false, created: Date())
    }

    func fileSystemType(_ image: String) throws -> String {
        try ChildProcess.run(["blkid", "-o", "value", "-s", "TYPE", image]).stdout.trimmed
    }

    @Test func aVolumeIsASparseEmptyExt4Image() throws {
        let (volumes, root) = try store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let volume = try volumes.create("data1")
        #expect(volume.Image == "\(root)/volumes/data1/volume.ext4")
        #expect(try fileSystemType(volume.Image) == "ext4")
        var info = stat()
        #expect(stat(volume.Image, &info) == 0)
        #expect(info.st_size == off_t(Ext4Image.defaultSize))
        #expect(Int64(info.st_blocks) * 512 < 64 << 20, "sparse: only metadata is allocated")
        #expect(try volumes.mount("data1:/data:ro") == MountSpec(volume: "data1", source: volume.Mountpoint, image: volume.Image,
                                                                    destination: "/data", readOnly: true))
        try volumes.remove("data1", users: [])
        #expect(!FileManager.default.fileExists(atPath: "\(root)/volumes/data1"))
    }

    /// Namespace containers share the host's loop mount (made by the first, removed after
    /// the last); a microVM container needs the volume to itself.
    @Test func attachmentsShareBetweenNamespacesAndExcludeMicroVMs() throws {
        let (volumes, root) = try store()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let volume = try volumes.create("shared")
        let first = try config("a", .namespace, volume: "shared")
        let second = try config("b", .namespace, volume: "shared")
        let vm = try config("c", .microvm, volume: "shared")
        try volumes.attach(first)
        #expect(VolumeStore.isMountPoint(volume.Mountpoint))
        try volumes.attach(second)
        #expect(throws: SwiftletError.self) { try volumes.attach(vm) }
        try "kept\n".write(toFile: "\(volume.Mountpoint)/file", atomically: false, encoding: .utf8)
        volumes.detach(first)
        #expect(VolumeStore.isMountPoint(volume.Mountpoint))
        volumes.detach(second)
        #expect(!VolumeStore.isMountPoint(volume.Mountpoint))
        #expect(!FileManager.default.fileExists(atPath: "\(volume.Mountpoint)/file"), "the data is in the image, not the directory")
        try volumes.attach(vm)
        #expect(!VolumeStore.isMountPoint(volume.Mountpoint), "a microVM's guest mounts the image itself")
        #expect(throws: SwiftletError.self) { try volumes.attach(first) }
        volumes.detach(vm)
        try volumes.attach(first)
        #expect(try String(contentsOfFile: "\(volume.Mountpoint)/file", encoding: .utf8) == "kept\n")
        volumes.detach(first)
    }
}
