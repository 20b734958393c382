import HostSystem
import ChildProcess
import Foundation
import KVM
import Runtime
import Testing

/// The isolation kinds the behavioural tests run under: `$SWIFTLET_TEST_ISOLATIONS`
/// (comma-separated) when set, else namespace plus microvm where this host's KVM runs
/// Linux guests. Elsewhere the microvm cases run inside scripts/kvm-rig, started by
/// IntegrationTests' `RuntimeInMicroVMTests`.
enum TestIsolation {
    static let available: [Isolation] = {
        if let list = ProcessInfo.processInfo.environment["SWIFTLET_TEST_ISOLATIONS"] {
            return list.split(separator: ",").compactMap { Isolation(rawValue: String($0)) }
        }
        return HostKVM.detect().runsLinuxGuests ? [.namespace, .microvm] : [.namespace]
    }()

    /// For guarantees only a container sharing the host's kernel must give (no host
    /// processes in view, no mounting, cgroup pid limits, host-directory binds): a microVM
    /// has its own kernel, processes and mount table, and takes no host directories.
    static let namespaces = available.filter { $0 == .namespace }
}

/// The exit status and output of one `swiftlet` invocation.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `swiftlet` executable against one temporary state root, shared by the
/// tests of this process, with the busybox and Debian test images loaded.
enum Swiftlet {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let executable: String = {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = products.appendingPathComponent("swiftlet").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repository.appendingPathComponent(".build/debug/swiftlet").path
    }()

    static let busybox = "swiftlet-test/busybox"
    static let debian = "swiftlet-test/debian"

    /// The state root, prepared once per process and reused across runs (loading is
    /// idempotent; unpacked image trees stay cached): test images built and loaded.
    /// Containers are named per test and removed by it. `$SWIFTLET_TEST_ROOT` names a root
    /// whose images the caller has loaded already (the microvm run inside the rig).
    static let root: Result<String, any Error> = Result {
        if let prepared = ProcessInfo.processInfo.environment["SWIFTLET_TEST_ROOT"] { return prepared }
        let root = NSTemporaryDirectory() + "swiftlet-runtime-tests"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let images = repository.appendingPathComponent("scripts/test-images")
        let build = try execute([images.appendingPathComponent("build").path], root: root, timeout: 3600)
        guard build.status == 0 else { throw SwiftletError("scripts/test-images/build failed: \(build.stderr)") }
        for layout in ["busybox", "debian"] {
            let load = try execute([executable, "image", "load", "--root", root, "-i", images.appendingPathComponent("out/\(layout)").path], root: root)
            guard load.status == 0 else { throw SwiftletError("image load \(layout) failed: \(load.stderr)") }
        }
        return root
    }

    /// The event journal's lines about container `name`, to explain a container that
    /// ended (and, with `--rm`, removed itself) before a test expected it to.
    static func events(of name: String) -> String {
        guard let root = try? root.get(),
              let journal = try? String(contentsOfFile: "\(root)/events.log", encoding: .utf8) else { return "(no journal)" }
        return journal.split(separator: "\n").filter { $0.contains("\"\(name)\"") }.joined(separator: "\n")
    }

    static func execute(_ command: [String], root: String, stdin: String? = nil, environment extra: [String: String] = [:],
                        timeout: Double = commandTimeout) throws -> CommandResult {
        let environment = ProcessInfo.processInfo.environment.merging(["SWIFTLET_ROOT": root].merging(extra) { $1 }) { $1 }
        let child = try ChildProcess(command, environment: environment, stdin: stdin.map { .bytes(Array($0.utf8)) } ?? .null)
        if let status = child.wait(timeout: timeout) {
            return CommandResult(status: status, stdout: child.output(1), stderr: child.output(2))
        }
        // A hang: record what was running, then kill it so the suite goes on.
        // (ps itself can block on the /proc files of a process stuck in the kernel.)
        let processes = (try? ChildProcess.run(["ps", "-eo", "pid,ppid,stat,etime,wchan:24,args"], timeout: 10).stdout) ?? "(ps failed)"
        child.signal(SIGKILL)
        _ = child.wait()
        Issue.record("\(command.joined(separator: " ")) did not finish within \(Int(timeout)) s; stderr: \(child.output(2))\nprocesses:\n\(processes)")
        return CommandResult(status: -1, stdout: child.output(1), stderr: child.output(2))
    }

    /// How long one `swiftlet` command may take (the slowest, an OOM-killed microVM
    /// nested in the rig, takes about 90 s).
    static let commandTimeout: Double = 300

    /// A container name unique to this test run.
    static func name(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }
}

/// `swiftlet ARGS…` started in the background with the test root (stdout and stderr
/// captured: `waitForOutput` waits for a line as it is written).
func swiftletInBackground(_ arguments: String...) throws -> ChildProcess {
    let environment = ProcessInfo.processInfo.environment.merging(["SWIFTLET_ROOT": try Swiftlet.root.get()]) { $1 }
    return try ChildProcess([Swiftlet.executable] + arguments, environment: environment)
}

/// `swiftlet ARGS…` with `SWIFTLET_ROOT` set to the test root (stdin: /dev/null or `stdin`).
@discardableResult
func swiftlet(_ arguments: String..., stdin: String? = nil) throws -> CommandResult {
    try Swiftlet.execute([Swiftlet.executable] + arguments, root: try Swiftlet.root.get(), stdin: stdin)
}

/// The full id of container `name`, from `inspect` ("" when it has none).
func containerID(_ name: String) throws -> String {
    containerID(inspectOutput: try swiftlet("inspect", name).stdout)
}

private func containerID(inspectOutput: String) -> String {
    (inspected(section: "config", of: inspectOutput)?["id"] as? String) ?? ""
}

/// One section (`config` or `state`) of `inspect`'s JSON for container `name`.
func inspected(_ name: String, section: String) throws -> [String: Any]? {
    inspected(section: section, of: try swiftlet("inspect", name).stdout)
}

private func inspected(section: String, of inspectOutput: String) -> [String: Any]? {
    let infos = try? JSONSerialization.jsonObject(with: Data(inspectOutput.utf8)) as? [[String: Any]]
    return infos?.first?[section] as? [String: Any]
}

/// What a failed expectation about container `name` should show: its `inspect` state and
/// the tail of its VM console (microVM containers), so a failure in CI explains itself.
func diagnostics(_ name: String) -> String {
    let state = (try? swiftlet("inspect", name).stdout) ?? "inspect failed"
    let id = containerID(inspectOutput: state)
    guard !id.isEmpty, let root = try? Swiftlet.root.get(),
          let console = try? String(contentsOfFile: "\(root)/containers/\(id)/console.log", encoding: .utf8) else {
        return "inspect: \(state)"
    }
    return "inspect: \(state)\nconsole.log (tail):\n\(console.split(separator: "\n").suffix(30).joined(separator: "\n"))"
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
