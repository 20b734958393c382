import Foundation
import Testing

/// Checks `guest-images/build`: a forced rebuild from the same packages gives the same
/// initramfs contents lists and byte-identical archives.
@Suite(.serialized) struct GuestImageTests {
    @Test func guestImagesRebuildDeterministically() throws {
        let out = KVMTestPath.guestImages
        guard FileManager.default.fileExists(atPath: out.appendingPathComponent(".stamp").path) else {
            KVMTestPath.skip("guestImagesRebuildDeterministically", because: "guest-images/out has not been built (run scripts/setup)")
            return
        }
        let rebuild = FileManager.default.temporaryDirectory.appendingPathComponent("guest-images-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: rebuild) }
        let build = KVMTestPath.repositoryRoot.appendingPathComponent("guest-images/build").path
        let result = try CommandResult.run([build, "--force", "--out", rebuild.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for name in ["initramfs.contents", "rig-initramfs.contents", "initramfs.cpio.gz", "rig-initramfs.cpio.gz", "vmlinux", "vmlinuz"] {
            let original = try Data(contentsOf: out.appendingPathComponent(name))
            let rebuilt = try Data(contentsOf: rebuild.appendingPathComponent(name))
            #expect(original == rebuilt, "\(name) differs after a rebuild from the same inputs")
        }
        let contents = try String(contentsOf: rebuild.appendingPathComponent("initramfs.contents"), encoding: .utf8)
        for module in ["virtio_mmio.ko", "virtio_blk.ko", "virtio_net.ko", "virtio_console.ko", "vmw_vsock_virtio_transport.ko", "erofs.ko", "overlay.ko"] {
            #expect(contents.contains("./lib/modules/\(module)"), "initramfs lacks \(module)")
        }
        #expect(contents.contains(" 755 ./bin/vsock-tool\n"), "initramfs lacks the vsock test tool")
        let rigContents = try String(contentsOf: rebuild.appendingPathComponent("rig-initramfs.contents"), encoding: .utf8)
        #expect(rigContents.contains("./lib/modules/vhost_vsock.ko"), "the rig lacks vhost_vsock (bench/virtio compares with it)")
        for module in ["bridge.ko", "veth.ko"] {
            #expect(rigContents.contains("./lib/modules/\(module)"), "the rig lacks \(module) (containers' bridge network)")
        }
    }
}
