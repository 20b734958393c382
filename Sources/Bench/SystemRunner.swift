import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One system under test ("a row"): how to run the workload to completion, how to start
/// an idle instance and tear it down, and which host processes an instance consists of.
/// Runners are driven from one thread at a time except `startIdle`, which the density
/// test calls concurrently.
protocol SystemRunner: AnyObject, Sendable {
    /// Stable id used in the JSON and on the command line (`--systems`).
    var id: String { get }
    /// What the row shows.
    var label: String { get }
    /// Readies the system (import the image, create the volume, probe the tool); throws
    /// with the reason the system is unavailable here.
    func prepare() throws
    /// Runs the workload with `tasks` to completion (with the bench volume at /vol when
    /// `volume`, timing the first arrival of `watch` on its stdout) and returns the
    /// finished launcher process.
    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess
    /// Starts an instance running `tasks` (`idle`, `tcp-server:PORT`) and returns once its
    /// workload printed `ready`.
    func startInstance(_ index: Int, tasks: [String]) throws -> Instance
    /// Removes a running instance; returns once all its host processes are gone.
    func teardown(_ instance: Instance) throws
    /// The guest path of the rootfs disk test's directory, or why it is not measured.
    var rootfsDiskPath: Result<String, SwiftletError> { get }
    /// The guest path of the volume disk test (directory or block device), or why not.
    var volumeDiskPath: Result<String, SwiftletError> { get }
    /// Why host↔container TCP cannot be measured on this system, nil when it can.
    var networkUnavailable: String? { get }
    /// Where the host reaches a running instance's workload over TCP, or why there is no
    /// network path.
    func networkEndpoint(_ instance: Instance) -> Result<NetworkEndpoint, SwiftletError>
    /// Removes what `prepare` created.
    func cleanUp()
}

/// A running idle instance: its launcher process and how to find its host processes.
final class Instance: Sendable {
    let name: String
    let launcher: Subprocess
    let readyAt: Double
    /// The pids whose process trees make up the instance on the host.
    let roots: @Sendable () -> [pid_t]

    init(name: String, launcher: Subprocess, readyAt: Double, roots: @escaping @Sendable () -> [pid_t]) {
        self.name = name
        self.launcher = launcher
        self.readyAt = readyAt
        self.roots = roots
    }
}

/// The host's process table as a parent → children map, and the PSS of processes
/// (`/proc/PID/smaps_rollup`, Linux Documentation/filesystems/proc.rst).
enum HostProcesses {
    /// The parent of `pid` from `/proc/PID/stat` (field 4), nil when it is gone.
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Every descendant of `roots`, the roots included.
    static func trees(_ roots: [pid_t]) -> Set<pid_t> {
        var children: [pid_t: [pid_t]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            if let pid = pid_t(entry), let parent = parent(of: pid) { children[parent, default: []].append(pid) }
        }
        var result = Set<pid_t>()
        var pending = roots
        while let pid = pending.popLast() {
            guard result.insert(pid).inserted else { continue }
            pending += children[pid] ?? []
        }
        return result
    }

    /// The summed PSS of `pids` in KiB; processes that vanished count zero.
    static func pssKiB(_ pids: Set<pid_t>) -> Int {
        pids.reduce(0) { total, pid in
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return total }
            let line = text.split(separator: "\n").first { $0.hasPrefix("Pss:") }
            let kib = line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
            return total + kib
        }
    }

    /// Waits until none of `pids` exists (zombies count as gone) or `timeout` passes.
    static func waitGone(_ pids: Set<pid_t>, timeout: Double) -> Bool {
        let deadline = Clock.monotonic() + timeout
        while Clock.monotonic() < deadline {
            let alive = pids.contains { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                return !stat[stat.index(after: close)...].hasPrefix(" Z")
            }
            if !alive { return true }
            usleep(200)
        }
        return false
    }
}
