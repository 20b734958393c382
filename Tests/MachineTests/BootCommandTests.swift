import ChildProcess
import Foundation
import KVM
import Testing

/// `swiftlet boot` as a process: exit statuses and messages for bad arguments, and an
/// orderly stop on SIGTERM (the latter needs KVM).
@Suite struct BootCommandTests {
    static let binary = FirmwareBuild.directory.deletingLastPathComponent()
        .appendingPathComponent(".build/debug/swiftlet").path

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `swiftlet boot arguments`; `signalAfter` sends SIGTERM once the guest has
    /// printed that text.
    func boot(_ arguments: [String], signalAfter: String? = nil) throws -> Outcome? {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            print("SKIPPED swiftlet boot process test: \(Self.binary) is not built (run swift build)")
            return nil
        }
        let process = try ChildProcess([Self.binary, "boot"] + arguments)
        if let signalAfter {
            #expect(process.waitForOutput(signalAfter, timeout: 120), "the guest printed \(signalAfter)")
            process.signal(SIGTERM)
        }
        let (status, timedOut) = process.waitKilling(after: 120)
        if timedOut { Issue.record("swiftlet boot \(arguments.joined(separator: " ")) did not finish within 120 s") }
        return Outcome(status: status, stdout: process.output(1), stderr: process.output(2))
    }

    @Test(arguments: [
        ([String](), "--kernel"),
        (["--kernel", "/nonexistent/vmlinuz"], "No such file"),
        (["--kernel", "/etc/hostname"], "not a bzImage"),
        (["--kernel", "/etc/hostname", "--memory", "lots"], "--memory"),
        (["--kernel", "/etc/hostname", "--cpus", "many"], "--cpus"),
        (["--kernal", "/etc/hostname"], "unknown option \"--kernal\""),
        (["--kernel", "/etc/hostname", "--disk"], "--disk needs a value"),
    ])
    func badArgumentsExitTwoWithOneErrorLine(arguments: [String], mentioned: String) throws {
        guard let outcome = try boot(arguments) else { return }
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(mentioned), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
    }

    @Test func helpPrintsUsageAndExitsZero() throws {
        guard let outcome = try boot(["--help"]) else { return }
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("OVERVIEW: Boot a Linux kernel"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("--disk PATH[,ro]") && outcome.stderr.isEmpty)
    }

    @Test func initrdTooLargeExitsTwo() throws {
        guard FirmwareBuild.failure == nil else { return }
        let scratch = ScratchFiles()
        let initrd = scratch.sparseFile("huge-initrd", size: 40 << 20)
        guard let outcome = try boot(["--kernel", FirmwareBuild.path("hello64.bzImage"), "--initrd", initrd, "--memory", "32M"]) else { return }
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("does not fit"), "\(outcome.stderr)")
    }

    @Test func sigtermStopsAHungGuestOnKVM() throws {
        let kind = HostKVM.detect()
        guard kind.runsFreestandingGuests else {
            print("SKIPPED sigtermStopsAHungGuestOnKVM: \(kind.summary)")
            return
        }
        if let failure = FirmwareBuild.failure {
            Issue.record(Comment(rawValue: failure))
            return
        }
        guard let outcome = try boot(["--kernel", FirmwareBuild.path("hello64.bzImage"), "--cmdline", "hang", "--memory", "32M"],
                                     signalAfter: "hanging") else { return }
        #expect(outcome.stdout.contains("hanging"))
        #expect(outcome.status == 128 + SIGTERM)
        #expect(outcome.stderr.contains("stopped by signal 15"), "\(outcome.stderr)")
    }
}
