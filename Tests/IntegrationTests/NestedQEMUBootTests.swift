import Foundation
import Testing

/// Boots the project's microVM guest (Debian cloud kernel + initramfs) under QEMU with
/// KVM acceleration, on hardware KVM or as a nested guest inside the kvm-rig. This is
/// the reference boot the Swiftlet VMM must match.
@Suite(.serialized) struct NestedQEMUBootTests {
    @Test func cloudKernelReachesInitUnderQEMUMicrovmWithKVM() throws {
        guard KVMTestPath.ready(for: "cloudKernelReachesInitUnderQEMUMicrovmWithKVM") else { return }
        let images = KVMTestPath.guestImages.path
        let result = try KVMTestPath.current.run([
            "qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host", "-m", "256M", "-smp", "2",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", "\(images)/vmlinuz", "-initrd", "\(images)/initramfs.cpio.gz",
            "-append", "console=ttyS0 panic=-1 quiet -- cat /proc/cpuinfo",
            "-serial", "stdio",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("swiftlet-initramfs: /init reached: kernel \(try kernelRelease()), 2 cpus"),
                "console: \(result.stdout)")
        #expect(result.stdout.contains("swiftlet-initramfs: program exited with status 0"))
        #expect(!result.stdout.contains("cannot load"), "a module failed to load: \(result.stdout)")
        #expect(result.stdout.contains("reboot: Power down"))
    }

    func kernelRelease() throws -> String {
        try String(contentsOf: KVMTestPath.guestImages.appendingPathComponent("kernel-release"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
