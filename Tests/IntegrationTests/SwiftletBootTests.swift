import Foundation
import Testing

/// `swiftlet boot` booting the Debian cloud kernel with the project's initramfs, on a
/// Linux-capable KVM (hardware, or nested inside scripts/kvm-rig): the bzImage path, the
/// PVH path (ELF vmlinux) and SMP. The guest's /init prints a marker line, runs the
/// program after `--` on the command line and powers off; the VMM must then exit 0.
@Suite(.serialized) struct SwiftletBootTests {
    static let swiftlet = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet").path

    func boot(kernel: String, cpus: Int, program: String) throws -> CommandResult {
        let images = KVMTestPath.guestImages.path
        #expect(FileManager.default.isExecutableFile(atPath: Self.swiftlet), "build swiftlet first (swift build)")
        return try KVMTestPath.current.run([
            Self.swiftlet, "boot", "--kernel", "\(images)/\(kernel)", "--initrd", "\(images)/initramfs.cpio.gz",
            "--cpus", String(cpus), "--memory", "256M",
            "--cmdline", "console=ttyS0 reboot=k panic=-1 quiet -- \(program)",
        ])
    }

    func kernelRelease() throws -> String {
        try String(contentsOf: KVMTestPath.guestImages.appendingPathComponent("kernel-release"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func bzImageBootsToInitAndPowersOffNeedsKVM() throws {
        guard KVMTestPath.ready(for: "bzImageBootsToInitAndPowersOffNeedsKVM") else { return }
        let result = try boot(kernel: "vmlinuz", cpus: 1, program: "cat /proc/cmdline")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("swiftlet-initramfs: /init reached: kernel \(try kernelRelease()), 1 cpus"),
                "console: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("swiftlet-initramfs: program exited with status 0"))
        #expect(!result.stdout.contains("cannot load"), "a module failed to load: \(result.stdout)")
    }

    @Test func pvhVmlinuxBootsToInitNeedsKVM() throws {
        guard KVMTestPath.ready(for: "pvhVmlinuxBootsToInitNeedsKVM") else { return }
        let result = try boot(kernel: "vmlinux", cpus: 1, program: "true")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("swiftlet-initramfs: /init reached: kernel \(try kernelRelease()), 1 cpus"),
                "console: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("swiftlet-initramfs: program exited with status 0"))
    }

    @Test func twoVCPUsAreVisibleInTheGuestNeedsKVM() throws {
        guard KVMTestPath.ready(for: "twoVCPUsAreVisibleInTheGuestNeedsKVM") else { return }
        let result = try boot(kernel: "vmlinuz", cpus: 2, program: "grep -c ^processor /proc/cpuinfo")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("/init reached: kernel \(try kernelRelease()), 2 cpus"),
                "console: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("\n2\n") || result.stdout.contains("\r\n2\r\n"),
                "the guest's /proc/cpuinfo should list 2 processors: \(result.stdout)")
    }
}
