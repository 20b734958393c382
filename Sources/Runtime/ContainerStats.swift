import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One sample of a container's resource use in the Engine API's stats shape (moby's
/// `container.StatsResponse`, daemon/stats_unix.go): read from its cgroup (v2:
/// cpu.stat, memory.current/max/stat, pids.current/max, io.stat; v1: cpuacct, memory,
/// pids, blkio), the host's /proc/stat for the system CPU time, and its host link's
/// counters (the veth or TAP end on the bridge, whose receive is the container's send).
/// A microVM container's numbers are its VMM's group: the VM as the host sees it.
public struct ContainerStatistics: Encodable, Sendable {
    public struct CPUUsage: Encodable, Sendable {
        public var totalUsage: UInt64 = 0
        public var usageInKernelmode: UInt64 = 0
        public var usageInUsermode: UInt64 = 0
        enum CodingKeys: String, CodingKey {
            case totalUsage = "total_usage", usageInKernelmode = "usage_in_kernelmode", usageInUsermode = "usage_in_usermode"
        }
    }
    public struct Throttling: Encodable, Sendable {
        public var periods: UInt64 = 0
        public var throttledPeriods: UInt64 = 0
        public var throttledTime: UInt64 = 0
        enum CodingKeys: String, CodingKey { case periods, throttledPeriods = "throttled_periods", throttledTime = "throttled_time" }
    }
    public struct CPU: Encodable, Sendable {
        public var usage = CPUUsage()
        /// The host's CPU time (all CPUs) in nanoseconds, and its CPU count.
        public var systemUsage: UInt64?
        public var onlineCPUs: UInt32?
        public var throttling = Throttling()
        enum CodingKeys: String, CodingKey {
            case usage = "cpu_usage", systemUsage = "system_cpu_usage", onlineCPUs = "online_cpus", throttling = "throttling_data"
        }
    }
    public struct Memory: Encodable, Sendable {
        public var usage: UInt64?
        public var limit: UInt64?
        public var stats: [String: UInt64]?
        public var failcnt: UInt64?
    }
    public struct Pids: Encodable, Sendable {
        public var current: UInt64?
        public var limit: UInt64?
    }
    public struct BlockIOEntry: Encodable, Sendable {
        public var major: UInt64
        public var minor: UInt64
        public var op: String
        public var value: UInt64
    }
    public struct BlockIO: Encodable, Sendable {
        public var serviceBytes: [BlockIOEntry]?

        // moby sends every list, null when unsupported.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyKey.self)
            try container.encode(serviceBytes, forKey: AnyKey("io_service_bytes_recursive"))
            for key in ["io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
                        "io_merged_recursive", "io_time_recursive", "sectors_recursive"] {
                try container.encodeNil(forKey: AnyKey(key))
            }
        }
    }
    public struct Network: Encodable, Sendable {
        public var rxBytes: UInt64 = 0, rxPackets: UInt64 = 0, rxErrors: UInt64 = 0, rxDropped: UInt64 = 0
        public var txBytes: UInt64 = 0, txPackets: UInt64 = 0, txErrors: UInt64 = 0, txDropped: UInt64 = 0
        enum CodingKeys: String, CodingKey {
            case rxBytes = "rx_bytes", rxPackets = "rx_packets", rxErrors = "rx_errors", rxDropped = "rx_dropped"
            case txBytes = "tx_bytes", txPackets = "tx_packets", txErrors = "tx_errors", txDropped = "tx_dropped"
        }
    }

    public var id: String
    /// The name with its slash, as dockerd.
    public var name: String
    /// When the sample was taken; nil for a container that is not running (moby's zero time).
    public var read: Date?
    public var preread: Date?
    public var cpu = CPU()
    public var precpu = CPU()
    public var memory = Memory()
    public var pids = Pids()
    public var blockIO = BlockIO()
    public var networks: [String: Network]?

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        try container.encode(id, forKey: AnyKey("id"))
        try container.encode(name, forKey: AnyKey("name"))
        try container.encode(Self.timestamp(read), forKey: AnyKey("read"))
        try container.encode(Self.timestamp(preread), forKey: AnyKey("preread"))
        try container.encode(cpu, forKey: AnyKey("cpu_stats"))
        try container.encode(precpu, forKey: AnyKey("precpu_stats"))
        try container.encode(memory, forKey: AnyKey("memory_stats"))
        try container.encode(pids, forKey: AnyKey("pids_stats"))
        try container.encode(blockIO, forKey: AnyKey("blkio_stats"))
        try container.encodeIfPresent(networks, forKey: AnyKey("networks"))
        try container.encode("linux", forKey: AnyKey("os_type"))
        try container.encode(0, forKey: AnyKey("num_procs"))
        try container.encode([String: UInt64](), forKey: AnyKey("storage_stats"))
    }

    /// RFC 3339 with fractional seconds as the Engine API writes times, moby's zero time
    /// when nil (inspect's StartedAt of a container never started, say).
    public static func timestamp(_ date: Date?) -> String {
        guard let date else { return zeroTime }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// moby's zero time.
    public static let zeroTime = "0001-01-01T00:00:00Z"

    /// Memory in use without the inactive page cache (what `docker stats` shows:
    /// usage - inactive_file on v2, usage - total_inactive_file on v1).
    public var memoryWithoutCache: UInt64 {
        let usage = memory.usage ?? 0
        let cache = memory.stats?["total_inactive_file"] ?? memory.stats?["inactive_file"] ?? 0
        return cache < usage ? usage - cache : usage
    }

    /// The CPU share of the host since `precpu`, in percent of one CPU (docker's
    /// calculateCPUPercentUnix: 200 is two CPUs busy).
    public var cpuPercent: Double {
        let used = Double(cpu.usage.totalUsage) - Double(precpu.usage.totalUsage)
        let system = Double(cpu.systemUsage ?? 0) - Double(precpu.systemUsage ?? 0)
        guard used > 0, system > 0 else { return 0 }
        return used / system * Double(cpu.onlineCPUs ?? 1) * 100
    }
}

/// A coding key made from any string.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Runtime {
    /// One sample of container `reference`'s resource use (empty but for its id and name
    /// when it is not running, as dockerd's).
    public func statistics(_ reference: String) throws -> ContainerStatistics {
        let config = try containers.find(reference)
        let state = try refreshedState(config)
        var sample = ContainerStatistics(id: config.id, name: "/\(config.name)")
        guard state.status == .running else { return sample }
        let group = Cgroup.locate(config.id)
        sample.read = Date()
        sample.cpu = Self.cpu(group)
        (sample.cpu.systemUsage, sample.cpu.onlineCPUs) = Self.systemCPU()
        let machine = UInt64(ProcessInfo.processInfo.physicalMemory)
        if group.unified {
            sample.memory.usage = group.number("memory", "memory.current")
            sample.memory.limit = group.number("memory", "memory.max") ?? machine
            sample.memory.failcnt = group.keyedValues("memory", "memory.events")["oom"]
            sample.pids.limit = group.number("pids", "pids.max")
        } else {
            sample.memory.usage = group.number("memory", "memory.usage_in_bytes")
            sample.memory.limit = group.number("memory", "memory.limit_in_bytes")
            sample.memory.failcnt = group.number("memory", "memory.failcnt")
            sample.pids.limit = group.number("pids", "pids.max")
        }
        // No limit reads as the largest page-aligned number (v1) or `max` (v2): the host's memory.
        if let limit = sample.memory.limit, limit > machine { sample.memory.limit = machine }
        sample.memory.stats = group.keyedValues("memory", "memory.stat")
        sample.pids.current = group.number("pids", "pids.current")
        sample.blockIO.serviceBytes = Self.blockIO(group)
        if !state.attachments.isEmpty {
            sample.networks = Dictionary(uniqueKeysWithValues: state.attachments.map {
                ($0.containerInterface, Self.network(hostEnd: $0.hostInterface))
            })
        }
        return sample
    }

    private static func cpu(_ group: Cgroup) -> ContainerStatistics.CPU {
        var cpu = ContainerStatistics.CPU()
        if group.unified {
            let stat = group.keyedValues("cpu", "cpu.stat")
            cpu.usage = .init(totalUsage: (stat["usage_usec"] ?? 0) * 1000, usageInKernelmode: (stat["system_usec"] ?? 0) * 1000,
                              usageInUsermode: (stat["user_usec"] ?? 0) * 1000)
            cpu.throttling = .init(periods: stat["nr_periods"] ?? 0, throttledPeriods: stat["nr_throttled"] ?? 0,
                                   throttledTime: (stat["throttled_usec"] ?? 0) * 1000)
        } else {
            cpu.usage = .init(totalUsage: group.number("cpuacct", "cpuacct.usage") ?? 0,
                              usageInKernelmode: group.number("cpuacct", "cpuacct.usage_sys") ?? 0,
                              usageInUsermode: group.number("cpuacct", "cpuacct.usage_user") ?? 0)
            let stat = group.keyedValues("cpu", "cpu.stat")
            cpu.throttling = .init(periods: stat["nr_periods"] ?? 0, throttledPeriods: stat["nr_throttled"] ?? 0,
                                   throttledTime: stat["throttled_time"] ?? 0)
        }
        return cpu
    }

    /// The host's CPU time in nanoseconds (the first seven fields of /proc/stat's `cpu`
    /// line, in USER_HZ = 100 ticks a second, as moby reads them) and its CPU count.
    static func systemCPU() -> (UInt64?, UInt32?) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return (nil, nil) }
        var total: UInt64?
        var count: UInt32 = 0
        for line in text.split(separator: "\n") {
            guard line.hasPrefix("cpu") else { break }
            let fields = line.split(separator: " ")
            if fields.first == "cpu" {
                total = fields.dropFirst().prefix(7).compactMap { UInt64($0) }.reduce(0, +) * 1_000_000_000 / 100
            } else {
                count += 1
            }
        }
        return (total, count)
    }

    /// Bytes read and written per device: v2 io.stat (`MAJ:MIN rbytes=… wbytes=…`), v1
    /// blkio's `MAJ:MIN Read N` lines (the throttle file where CFQ's is absent).
    private static func blockIO(_ group: Cgroup) -> [ContainerStatistics.BlockIOEntry]? {
        var entries: [ContainerStatistics.BlockIOEntry] = []
        func device(_ text: Substring) -> (UInt64, UInt64)? {
            let numbers = text.split(separator: ":").compactMap { UInt64($0) }
            return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
        }
        if group.unified {
            guard let text = group.file("io", "io.stat").flatMap(Cgroup.read) else { return nil }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard let first = fields.first, let (major, minor) = device(first) else { continue }
                for field in fields.dropFirst() {
                    let pair = field.split(separator: "=")
                    guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                    if pair[0] == "rbytes" { entries.append(.init(major: major, minor: minor, op: "read", value: value)) }
                    if pair[0] == "wbytes" { entries.append(.init(major: major, minor: minor, op: "write", value: value)) }
                }
            }
            return entries
        }
        let files = ["blkio.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"]
        guard let text = files.lazy.compactMap({ group.file("blkio", $0).flatMap(Cgroup.read) }).first(where: { !$0.isEmpty })
        else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let (major, minor) = device(fields[0]), let value = UInt64(fields[2]) else { continue }
            entries.append(.init(major: major, minor: minor, op: String(fields[1]), value: value))
        }
        return entries
    }

    /// The container's interface counters from the host end of its link (receive and
    /// send swapped: what the host end receives, the container sent).
    private static func network(hostEnd link: String) -> ContainerStatistics.Network {
        func counter(_ name: String) -> UInt64 {
            Cgroup.read("/sys/class/net/\(link)/statistics/\(name)").flatMap { UInt64($0) } ?? 0
        }
        return .init(rxBytes: counter("tx_bytes"), rxPackets: counter("tx_packets"), rxErrors: counter("tx_errors"),
                     rxDropped: counter("tx_dropped"), txBytes: counter("rx_bytes"), txPackets: counter("rx_packets"),
                     txErrors: counter("rx_errors"), txDropped: counter("rx_dropped"))
    }
}
