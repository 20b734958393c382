import ChildProcess
import Foundation
import KVM
import Testing

/// Where integration tests that need a Linux-capable KVM run their commands:
/// directly on `/dev/kvm` when it is hardware-backed, otherwise inside `scripts/kvm-rig`
/// (QEMU-TCG with an emulated SVM CPU), or nowhere (the test is skipped, with a reason).
enum KVMTestPath: CustomStringConvertible {
    case direct
    case rig
    case unavailable(reason: String)

    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var guestImages: URL { repositoryRoot.appendingPathComponent("guest-images/out") }

    /// Picks the path for this host and says why.
    static let current: KVMTestPath = {
        let host = HostKVM.detect()
        if host.runsLinuxGuests {
            return .direct
        }
        if let rigProblem = rigUnavailableReason {
            return .unavailable(reason: "\(host.summary); and \(rigProblem)")
        }
        return .rig
    }()

    /// Why scripts/kvm-rig cannot start here (its guest images or QEMU are missing), or
    /// nil when it can. The rig runs on any host: it needs no KVM of its own.
    static let rigUnavailableReason: String? = {
        let rigInputs = ["rig-vmlinuz", "rig-initramfs.cpio.gz"].map { guestImages.appendingPathComponent($0).path }
        if let missing = rigInputs.first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            return "the kvm-rig cannot start: \(missing) is missing (run scripts/setup)"
        }
        if ChildProcess.locate("qemu-system-x86_64") == nil {
            return "the kvm-rig cannot start: qemu-system-x86_64 is not installed (run scripts/setup)"
        }
        return nil
    }()

    var description: String {
        switch self {
        case .direct: return "hardware KVM: running directly on /dev/kvm"
        case .rig: return "no hardware KVM here: running inside scripts/kvm-rig (QEMU-TCG, emulated SVM)"
        case .unavailable(let reason): return "no KVM path: \(reason)"
        }
    }

    /// True when a test needing KVM should run. Otherwise prints why it is skipped; when
    /// `SWIFTLET_REQUIRE_KVM_TESTS=1` (set by scripts/test) a missing path is a failure.
    static func ready(for test: String) -> Bool {
        if case .unavailable = current {
            skip(test, because: current.description)
            return false
        }
        print("\(test): \(current)")
        return true
    }

    /// Prints why `test` does not run; when `SWIFTLET_REQUIRE_KVM_TESTS=1` (set by
    /// scripts/test) the skip is recorded as a failure instead.
    static func skip(_ test: String, because reason: String) {
        let message = "\(test): skipped, \(reason)"
        print(message)
        if ProcessInfo.processInfo.environment["SWIFTLET_REQUIRE_KVM_TESTS"] == "1" {
            Issue.record("\(message); SWIFTLET_REQUIRE_KVM_TESTS=1 makes this a failure")
        }
    }

    /// Runs `arguments` on this path, from the repository root, and collects its output.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        switch self {
        case .direct:
            return try CommandResult.run(arguments, environment: environment)
        case .rig:
            // The rig is an emulator running a hypervisor: now and then its own kernel
            // fails under the nested guests (CPUs soft-locked under heavy host load; once
            // a kernel stack overflow in the rig's KVM, then a panic). A rig VM that did
            // not finish (kvm-rig's timeout, lockup watchdog, or its kernel panicked) is
            // retried once; a command's own failure is never retried.
            let rig = Self.repositoryRoot.appendingPathComponent("scripts/kvm-rig").path
            let rigEnvironment = ["KVM_RIG_TIMEOUT": "600"].merging(environment) { $1 }
            let first = try CommandResult.run([rig, "--"] + arguments, environment: rigEnvironment)
            guard first.status == 125, first.stderr.contains("kvm-rig: the rig VM did not finish") else { return first }
            let console = first.stderr.split(separator: "\n").suffix(15).joined(separator: "\n")
            print("kvm-rig did not finish; retrying once: \(arguments.joined(separator: " "))\n\(console)")
            return try CommandResult.run([rig, "--"] + arguments, environment: rigEnvironment)
        case .unavailable(let reason):
            throw CommandError(message: "no KVM path: \(reason)")
        }
    }
}

struct CommandError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The exit status and captured output of a finished command.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String

    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL = KVMTestPath.repositoryRoot) throws -> CommandResult {
        let result = try ChildProcess.run(arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                          directory: directory.path)
        return CommandResult(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}
