import ChildProcess
import HostSystem
import Foundation

/// The processes of a container as `ps` shows them (the Engine API's top response:
/// `Titles`, the header's columns, and one row per process).
public struct ProcessList: Codable, Sendable {
    public var Titles: [String]
    public var Processes: [[String]]
}

extension Runtime {
    /// `top`: runs the host's `ps` with `psArguments` (default `-ef`) and keeps the rows of
    /// the processes in the container's cgroup (dockerd's daemon/top_unix.go: `-q PIDS`
    /// added where `ps` takes it, a row's overhanging fields joined into its last column,
    /// thread rows after a kept process kept). A microVM container's processes run in its
    /// guest's kernel, not the host's: refused with that reason.
    public func top(_ reference: String, psArguments: [String]) throws -> ProcessList {
        let arguments = psArguments.isEmpty ? ["-ef"] : psArguments
        let joined = " " + arguments.joined(separator: " ")
        if let match = joined.firstMatch(of: /\s+([^\s]*)=\s*(PID[^\s]*)/), match.1 != "pid" {
            throw SwiftletError("specifying \"\(match.1)=\(match.2)\" is not allowed", code: .invalidArgument)
        }
        let config = try containers.find(reference)
        guard try refreshedState(config).status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        guard config.isolation == .namespace else {
            throw SwiftletError("top is not supported for microVM containers: their processes run in the guest's own kernel, not on the host",
                                code: .notImplemented)
        }
        // In the cgroup's order, which `ps -q` keeps.
        let pids = Cgroup.locate(config.id).processIDs()
        var run = try ChildProcess.run(["ps"] + arguments + ["-q", pids.map(String.init).joined(separator: ",")])
        if run.status != 0 {
            // Some options (f) cannot be combined with -q.
            run = try ChildProcess.run(["ps"] + arguments)
            guard run.status == 0 else {
                let line = run.stderr.split(separator: "\n").first.map(String.init) ?? "exit status \(run.status)"
                throw SwiftletError("ps: \(line)")
            }
        }
        let list = try Self.parse(psOutput: run.stdout, keeping: Set(pids))
        recordEvent("top", config)
        return list
    }

    /// The rows of `ps` output whose PID column is in `pids`.
    static func parse(psOutput: String, keeping pids: Set<pid_t>) throws -> ProcessList {
        let lines = psOutput.split(separator: "\n", omittingEmptySubsequences: true)
        let titles = lines.first.map { Self.fields($0) } ?? []
        guard let pidColumn = titles.firstIndex(of: "PID") else { throw SwiftletError("Couldn't find PID field in ps output") }
        var list = ProcessList(Titles: titles, Processes: [])
        var afterKept = false
        for line in lines.dropFirst() {
            let fields = Self.fields(line)
            guard fields.count > pidColumn else { continue }
            if fields[pidColumn] == "-" {
                if afterKept { list.Processes.append(Self.row(fields, columns: titles.count)) }
                continue
            }
            guard let pid = pid_t(fields[pidColumn]) else {
                throw SwiftletError("Unexpected pid '\(fields[pidColumn])'")
            }
            afterKept = pids.contains(pid)
            if afterKept { list.Processes.append(Self.row(fields, columns: titles.count)) }
        }
        return list
    }

    private static func fields(_ line: Substring) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    private static func row(_ fields: [String], columns: Int) -> [String] {
        guard fields.count > columns, columns > 0 else { return fields }
        return Array(fields[..<(columns - 1)]) + [fields[(columns - 1)...].joined(separator: " ")]
    }
}
