import Foundation
import Runtime

/// The isolation kinds the behavioural tests run under; `.microvm` joins when issue 6's
/// backend lands, and every parameterised test then runs under both.
enum TestIsolation {
    static let available: [Isolation] = [.namespace]
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
    /// Containers are named per test and removed by it.
    static let root: Result<String, any Error> = Result {
        let root = NSTemporaryDirectory() + "swiftlet-runtime-tests"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let images = repository.appendingPathComponent("scripts/test-images")
        let build = try execute([images.appendingPathComponent("build").path], root: root)
        guard build.status == 0 else { throw RuntimeError("scripts/test-images/build failed: \(build.stderr)") }
        for layout in ["busybox", "debian"] {
            let load = try execute([executable, "image", "load", "--root", root, "-i", images.appendingPathComponent("out/\(layout)").path], root: root)
            guard load.status == 0 else { throw RuntimeError("image load \(layout) failed: \(load.stderr)") }
        }
        return root
    }

    static func execute(_ command: [String], root: String, stdin: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFTLET_ROOT": root]) { $1 }
        let directory = NSTemporaryDirectory() + "swiftlet-cmd-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["out", "err", "in"] {
            _ = FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: name == "in" ? Data((stdin ?? "").utf8) : nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/err"))
        process.standardInput = stdin == nil ? FileHandle.nullDevice : try FileHandle(forReadingFrom: URL(fileURLWithPath: "\(directory)/in"))
        try process.run()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOfFile: "\(directory)/out", encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: "\(directory)/err", encoding: .utf8)) ?? "")
    }

    /// A container name unique to this test run.
    static func name(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }
}

/// `swiftlet ARGS…` with `SWIFTLET_ROOT` set to the test root (stdin: /dev/null or `stdin`).
@discardableResult
func swiftlet(_ arguments: String..., stdin: String? = nil) throws -> CommandResult {
    try Swiftlet.execute([Swiftlet.executable] + arguments, root: try Swiftlet.root.get(), stdin: stdin)
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
