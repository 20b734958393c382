import Foundation
import Testing
import VMLaunch

/// `swiftlet boot` booting the Debian cloud kernel with the project's initramfs, on a
/// Linux-capable KVM (hardware, or nested inside scripts/kvm-rig): the bzImage path, the
/// PVH path (ELF vmlinux) and SMP. The guest's /init prints a marker line, runs the
/// program after `--` on the command line and powers off; the VMM must then exit 0.
@Suite(.serialized) struct SwiftletBootTests {
    /// One boot: which kernel image, how many vCPUs, what /init runs, and what its
    /// output must contain besides the marker line.
    struct BootCase: Sendable, CustomTestStringConvertible {
        let kernel: String
        let cpus: Int
        let program: String
        let expectedOutput: [String]
        var testDescription: String { "\(kernel), \(cpus) vCPU, \(program)" }
    }

    static let swiftlet = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet").path

    static let cases = [
        BootCase(kernel: "vmlinuz", cpus: 1, program: "cat /proc/cmdline", expectedOutput: ["reboot=k panic=-1"]),
        BootCase(kernel: "vmlinux", cpus: 1, program: "true", expectedOutput: []),
        BootCase(kernel: "vmlinuz", cpus: 2, program: "grep -c ^processor /proc/cpuinfo", expectedOutput: ["\n2\n"]),
    ]

    @Test(arguments: cases)
    func cloudKernelBootsToInitAndPowersOffNeedsKVM(_ boot: BootCase) throws {
        guard KVMTestPath.ready(for: "cloudKernelBootsToInitAndPowersOffNeedsKVM(\(boot.testDescription))") else { return }
        #expect(FileManager.default.isExecutableFile(atPath: Self.swiftlet), "build swiftlet first (swift build)")
        let images = KVMTestPath.guestImages.path
        let release = try String(contentsOf: KVMTestPath.guestImages.appendingPathComponent("kernel-release"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try KVMTestPath.current.run([
            Self.swiftlet, "boot", "--kernel", "\(images)/\(boot.kernel)", "--initrd", "\(images)/initramfs.cpio.gz",
            "--cpus", String(boot.cpus), "--memory", "256M",
            "--cmdline", KernelCommandLine.unattended(initArguments: [boot.program]).description,
        ])
        // The serial console's tty turns \n into \r\n.
        let console = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(console.contains("swiftlet-initramfs: /init reached: kernel \(release), \(boot.cpus) cpus"),
                "console: \(console)\nstderr: \(result.stderr)")
        #expect(console.contains("swiftlet-initramfs: program exited with status 0"))
        #expect(!console.contains("cannot load"), "a module failed to load: \(console)")
        for expected in boot.expectedOutput {
            #expect(console.contains(expected), "console lacks \(expected.debugDescription): \(console)")
        }
    }
}
