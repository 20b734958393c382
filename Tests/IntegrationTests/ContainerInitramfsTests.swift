import Foundation
import Testing

/// Checks `guest-images/build-container-initramfs`: the same swiftlet-init gives a
/// byte-identical archive, with /init, the agent's modules in dependency order and the
/// dynamic loader; bad arguments fail with a clear line.
@Suite(.serialized) struct ContainerInitramfsTests {
    static let script = KVMTestPath.repositoryRoot.appendingPathComponent("guest-images/build-container-initramfs").path
    static let agent = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet-init").path

    @Test func containerInitramfsIsReproducibleAndComplete() throws {
        let release = KVMTestPath.guestImages.appendingPathComponent("kernel-release").path
        guard FileManager.default.fileExists(atPath: release) else {
            KVMTestPath.skip("containerInitramfsIsReproducibleAndComplete", because: "guest-images/out has not been built (run scripts/setup)")
            return
        }
        #expect(FileManager.default.isExecutableFile(atPath: Self.agent), "build first (swift build)")
        var archives: [Data] = []
        for _ in 0..<2 {
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("container-initramfs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: out) }
            try FileManager.default.copyItem(atPath: release, toPath: out.appendingPathComponent("kernel-release").path)
            let result = try CommandResult.run([Self.script, "--init", Self.agent, "--out", out.path])
            #expect(result.status == 0, "stderr: \(result.stderr)")
            archives.append(try Data(contentsOf: out.appendingPathComponent("container-initramfs.cpio.gz")))
            let contents = try String(contentsOf: out.appendingPathComponent("container-initramfs.contents"), encoding: .utf8)
            for path in ["./init", "./dev/console", "./lib64/ld-linux-x86-64.so.2", "./lib/x86_64-linux-gnu/libc.so.6", "./lib/modules/load-order"] {
                #expect(contents.contains(" \(path)\n"), "the initramfs lacks \(path)")
            }
            let list = try CommandResult.run(["sh", "-c", "zcat \(out.path)/container-initramfs.cpio.gz | cpio -i --quiet --to-stdout lib/modules/load-order"])
            let order = list.stdout.split(separator: "\n").map(String.init)
            for module in ["virtio_mmio.ko", "virtio_blk.ko", "virtio_net.ko", "vmw_vsock_virtio_transport.ko", "erofs.ko", "overlay.ko"] {
                #expect(order.contains(module), "load-order lacks \(module): \(order)")
            }
            #expect((order.firstIndex(of: "vsock.ko") ?? .max) < (order.firstIndex(of: "vmw_vsock_virtio_transport.ko") ?? -1),
                    "dependencies load first: \(order)")
        }
        #expect(archives.count == 2 && archives[0] == archives[1], "two builds from the same binary differ")
    }

    @Test func missingAgentIsAClearError() throws {
        let result = try CommandResult.run([Self.script, "--init", "/nonexistent/swiftlet-init", "--out", "/tmp"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/swiftlet-init is not an executable file"))
    }
}
