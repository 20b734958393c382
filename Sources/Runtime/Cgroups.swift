import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A container's control groups, applying `ResourceLimits` (Linux
/// Documentation/admin-guide/cgroup-v2.rst and cgroup-v1/{memory,pids}.rst, CFS bandwidth
/// in scheduler/sched-bwc.rst). On the unified hierarchy (cgroup v2 mounted at
/// /sys/fs/cgroup) one group `swiftlet/<id>`; on v1 or hybrid hosts one group per
/// controller (memory, cpu, cpuacct, pids, devices, freezer, blkio) under
/// `/sys/fs/cgroup/<controller>/swiftlet/<id>`. Pausing (the freezer), statistics and live
/// limit changes are in `CgroupControl.swift`.
/// Swap is not granted: the memory limit covers memory+swap where the host allows it.
struct Cgroup: Sendable {
    /// The group directories, one per hierarchy.
    let directories: [String]
    let unified: Bool

    static let mountPoint = "/sys/fs/cgroup"
    static let v1Controllers = ["memory", "cpu", "cpuacct", "pids", "devices", "freezer", "blkio"]

    static var isUnified: Bool { FileManager.default.fileExists(atPath: "\(mountPoint)/cgroup.controllers") }

    /// The directories a container's group has or would have.
    static func locate(_ id: String) -> Cgroup {
        if isUnified { return Cgroup(directories: ["\(mountPoint)/swiftlet/\(id)"], unified: true) }
        let directories = v1Controllers.filter { FileManager.default.fileExists(atPath: "\(mountPoint)/\($0)") }
            .map { "\(mountPoint)/\($0)/swiftlet/\(id)" }
        return Cgroup(directories: directories, unified: false)
    }

    /// Creates the group and writes the limits; with `restrictDevices`, the device
    /// allow-list as well.
    static func create(_ id: String, limits: ResourceLimits, restrictDevices: Bool = false) throws -> Cgroup {
        let group = locate(id)
        if group.unified { try enableControllers() }
        for directory in group.directories {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SwiftletError("cannot create cgroup \(directory): \(error.localizedDescription)")
            }
        }
        try group.apply(limits)
        if restrictDevices { try group.allowDefaultDevices() }
        return group
    }

    /// The devices a container may create and use (cgroup-v1/devices.rst), Docker's default
    /// list but for block devices, which it may not even create: any character device may
    /// be made (`c *:* m`), only null, zero, full, random, urandom, tty, console, ptmx, the
    /// pseudo-terminals and tun used. On the unified hierarchy device access is a BPF
    /// program (not installed here); the seccomp filter still refuses block device nodes.
    private func allowDefaultDevices() throws {
        guard !unified, let deny = file("devices", "devices.deny"), let allow = file("devices", "devices.allow") else {
            return
        }
        try Cgroup.write("a", to: deny)
        for rule in ["c *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm",
                     "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"] {
            try Cgroup.write(rule, to: allow)
        }
    }

    /// v2: controllers must be enabled in each ancestor's subtree_control.
    private static func enableControllers() throws {
        let parent = "\(mountPoint)/swiftlet"
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let available = (try? String(contentsOfFile: "\(mountPoint)/cgroup.controllers", encoding: .utf8)) ?? ""
        for directory in [mountPoint, parent] {
            for controller in ["memory", "cpu", "pids", "io"] where available.split(whereSeparator: \.isWhitespace).contains(Substring(controller)) {
                try write("+\(controller)", to: "\(directory)/cgroup.subtree_control")
            }
        }
    }

    /// The path of a controller's file in this group (v1: in that controller's hierarchy).
    func file(_ controller: String, _ name: String) -> String? {
        directories.first { unified || $0.contains("/\(controller)/") }.map { "\($0)/\(name)" }
    }

    private func set(_ controller: String, _ name: String, _ value: String) throws {
        guard let path = file(controller, name) else {
            throw SwiftletError("the \(controller) cgroup controller is not available on this host")
        }
        try Cgroup.write(value, to: path)
    }

    /// Writes the limits `limits` sets (nil fields are left as they are).
    func apply(_ limits: ResourceLimits) throws {
        if let memory = limits.memory {
            if unified {
                try set("memory", "memory.max", "\(memory)")
                if let swap = file("memory", "memory.swap.max"), FileManager.default.fileExists(atPath: swap) {
                    try Cgroup.write("0", to: swap)
                }
            } else if let swap = file("memory", "memory.memsw.limit_in_bytes"), FileManager.default.fileExists(atPath: swap) {
                // memory+swap may never be below memory: raise it first, lower it last.
                let current = file("memory", "memory.limit_in_bytes").flatMap { Int64(Cgroup.read($0) ?? "") } ?? 0
                if memory > current { try Cgroup.write("\(memory)", to: swap) }
                try set("memory", "memory.limit_in_bytes", "\(memory)")
                if memory <= current { try Cgroup.write("\(memory)", to: swap) }
            } else {
                try set("memory", "memory.limit_in_bytes", "\(memory)")
            }
        }
        if let cpus = limits.cpus {
            let period = 100_000
            let quota = max(1000, Int((cpus * Double(period)).rounded()))
            if unified {
                try set("cpu", "cpu.max", "\(quota) \(period)")
            } else {
                try set("cpu", "cpu.cfs_period_us", "\(period)")
                try set("cpu", "cpu.cfs_quota_us", "\(quota)")
            }
        }
        if let shares = limits.cpuShares {
            // cgroup v2 has weights (1-10000) where v1 had shares (2-262144): runc's mapping.
            if unified {
                try set("cpu", "cpu.weight", "\(1 + ((min(max(shares, 2), 262_144) - 2) * 9999) / 262_142)")
            } else {
                try set("cpu", "cpu.shares", "\(shares)")
            }
        }
        if let pids = limits.pids {
            try set("pids", "pids.max", pids > 0 ? "\(pids)" : "max")
        }
    }

    /// Moves a process (and its future children) into the group. A hierarchy without the
    /// group is skipped: a container started before Swiftlet used that controller
    /// (`create` makes every one, so nothing else lacks one).
    func add(_ pid: pid_t) throws {
        for directory in directories where FileManager.default.fileExists(atPath: directory) {
            try Cgroup.write("\(pid)", to: "\(directory)/cgroup.procs")
        }
    }

    /// Whether the kernel's OOM killer killed a process of the group.
    func oomKilled() -> Bool {
        let name = unified ? "memory.events" : "memory.oom_control"
        guard let path = file("memory", name), let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return false
        }
        return text.split(separator: "\n").contains { line in
            line.hasPrefix("oom_kill ") && line.split(separator: " ").last.map { $0 != "0" } == true
        }
    }

    /// Removes the group once its processes are gone (retrying briefly while they exit).
    func remove() {
        for directory in directories where FileManager.default.fileExists(atPath: directory) {
            for _ in 0..<50 {
                if rmdir(directory) == 0 || errno == ENOENT { break }
                usleep(20_000)
            }
        }
    }

    /// A cgroup file's content without its trailing newline; nil when it cannot be read.
    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func write(_ value: String, to path: String) throws {
        let fd = try sys("open \(path)") { open(path, O_WRONLY | O_CLOEXEC) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        try sys("write \(value) to \(path)") { Glibc.write(fd, bytes, bytes.count) }
    }
}
