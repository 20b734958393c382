import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a running container's group offers besides its limits: the freezer (cgroup v2's
/// `cgroup.freeze`/`cgroup.events`, v1's `freezer.state`; Linux
/// Documentation/admin-guide/cgroup-v2.rst "Core Interface Files" and
/// cgroup-v1/freezer-subsystem.rst) and the processes it holds.
extension Cgroup {
    /// How long a freeze may take before it is given up (and the group thawed again).
    static let freezeTimeout: Double = 5

    /// Freezes every process of the group; returns once all are frozen.
    func freeze() throws {
        if unified {
            guard let control = file("cgroup", "cgroup.freeze"), let events = file("cgroup", "cgroup.events") else {
                throw SwiftletError("the container has no cgroup")
            }
            // cgroup.events is modified (an inotify event) when `frozen` changes.
            let changes = try FileChangeWatch(events)
            try Cgroup.write("1", to: control)
            let deadline = Date().addingTimeInterval(Self.freezeTimeout)
            while !isFrozen {
                guard deadline.timeIntervalSinceNow > 0 else { return try abandonFreeze() }
                changes.wait(timeout: deadline.timeIntervalSinceNow)
            }
            return
        }
        guard let state = file("freezer", "freezer.state"), FileManager.default.fileExists(atPath: state) else {
            throw SwiftletError("the freezer cgroup controller is not available for this container (started before pausing existed?)")
        }
        try Cgroup.write("FROZEN", to: state)
        // v1 sends no notification when FREEZING becomes FROZEN: reading the state is what
        // completes it, so it is re-read (and FROZEN re-written, as the kernel document
        // advises) a few times a millisecond apart, within the timeout.
        let deadline = Date().addingTimeInterval(Self.freezeTimeout)
        while Cgroup.read(state) != "FROZEN" {
            guard deadline.timeIntervalSinceNow > 0 else { return try abandonFreeze() }
            var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
            nanosleep(&pause, nil)
            try Cgroup.write("FROZEN", to: state)
        }
    }

    /// Thaws the group.
    func thaw() throws {
        if unified {
            guard let control = file("cgroup", "cgroup.freeze") else { throw SwiftletError("the container has no cgroup") }
            try Cgroup.write("0", to: control)
        } else {
            guard let state = file("freezer", "freezer.state") else {
                throw SwiftletError("the freezer cgroup controller is not available for this container")
            }
            try Cgroup.write("THAWED", to: state)
        }
    }

    /// Whether the group's processes are all frozen.
    var isFrozen: Bool {
        if unified {
            let events = file("cgroup", "cgroup.events").flatMap(Cgroup.read) ?? ""
            return events.split(separator: "\n").contains("frozen 1")
        }
        return file("freezer", "freezer.state").flatMap(Cgroup.read) == "FROZEN"
    }

    private func abandonFreeze() throws {
        try? thaw()
        throw SwiftletError("the container's processes did not freeze within \(Int(Self.freezeTimeout)) s")
    }

    /// The processes (thread-group ids) in the group.
    func processIDs() -> [pid_t] {
        let directory = unified ? directories.first : directories.first { $0.contains("/pids/") } ?? directories.first
        guard let directory, let text = Cgroup.read("\(directory)/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// A flat-keyed cgroup file (`memory.stat`, `cpu.stat`): each line `key value`.
    func keyedValues(_ controller: String, _ name: String) -> [String: UInt64] {
        guard let text = file(controller, name).flatMap(Cgroup.read) else { return [:] }
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = UInt64(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }

    /// A single-number cgroup file; nil when missing or `max` (no limit).
    func number(_ controller: String, _ name: String) -> UInt64? {
        file(controller, name).flatMap(Cgroup.read).flatMap { UInt64($0) }
    }
}
