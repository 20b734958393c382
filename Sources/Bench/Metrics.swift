/// One quantity the benchmark measures on every system (README, `swiftlet bench`): its JSON key,
/// title, unit, and whether lower values are better.
public struct Metric: Codable, Equatable, Sendable {
    public let id: String
    public let title: String
    public let unit: String
    public let lowerIsBetter: Bool

    public init(_ id: String, _ title: String, _ unit: String, lowerIsBetter: Bool) {
        self.id = id
        self.title = title
        self.unit = unit
        self.lowerIsBetter = lowerIsBetter
    }

    /// Every metric, in report order.
    public static let all: [Metric] = [
        Metric("start_first_instruction", "Start to the workload's first instruction", "ms", lowerIsBetter: true),
        Metric("start_to_exit", "Start to exit of a `true`-like workload", "ms", lowerIsBetter: true),
        Metric("teardown", "Teardown of a running instance (remove, processes gone)", "ms", lowerIsBetter: true),
        Metric("memory_pss", "Host memory per running idle instance (PSS)", "MiB", lowerIsBetter: true),
        Metric("density_start", "Density: start N idle instances concurrently, all ready", "ms", lowerIsBetter: true),
        Metric("density_pss", "Density: host memory of N idle instances (PSS), per instance", "MiB", lowerIsBetter: true),
        Metric("cpu", "CPU-bound kernel (fixed CRC-32 work)", "ms", lowerIsBetter: true),
        Metric("memory_bandwidth", "Memory copy bandwidth (read + write)", "GB/s", lowerIsBetter: false),
        Metric("syscall_getpid", "Syscall latency (getpid loop)", "ns", lowerIsBetter: true),
    ] + DiskTarget.allCases.flatMap(\.metrics) + [
        Metric("tcp_throughput", "TCP throughput host to container", "Gbit/s", lowerIsBetter: false),
        Metric("tcp_request_response", "TCP request/response latency (1 byte)", "µs", lowerIsBetter: true),
    ]
}

/// Where the disk metrics are measured: the container's root filesystem or a volume.
public enum DiskTarget: String, CaseIterable, Sendable {
    case rootfs
    case volume

    /// The disk measures: name, title, unit, and the workload's key suffix for the unit.
    static let measures: [(name: String, title: String, unit: String, suffix: String)] = [
        ("seq_write", "sequential write", "MB/s", "mbs"),
        ("seq_read", "sequential read", "MB/s", "mbs"),
        ("rand_read", "4 KiB random read", "IOPS", "iops"),
        ("rand_write", "4 KiB random write", "IOPS", "iops"),
    ]

    var metrics: [Metric] {
        DiskTarget.measures.map { measure in
            Metric("disk_\(rawValue)_\(measure.name)", "Disk (\(rawValue)): \(measure.title)", measure.unit, lowerIsBetter: false)
        }
    }

    /// The metric ids and the workload keys (`disk_rootfs_seq_write` ← `disk_rootfs_seq_write_mbs`).
    var keys: [(metric: String, key: String)] {
        DiskTarget.measures.map { ("disk_\(rawValue)_\($0.name)", "disk_\(rawValue)_\($0.name)_\($0.suffix)") }
    }
}

/// What one system gave for one metric: a summary of samples, or why there is none.
public enum Outcome: Equatable, Sendable {
    case measured(Summary)
    case notMeasured(reason: String)

    public var summary: Summary? {
        if case .measured(let summary) = self { return summary }
        return nil
    }
}

extension Outcome: Codable {
    private enum CodingKeys: String, CodingKey { case status, reason, p50, p99, min, max, samples }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if try container.decode(String.self, forKey: .status) == "measured" {
            let samples = try container.decode([Double].self, forKey: .samples)
            guard let summary = Summary(samples) else {
                throw DecodingError.dataCorruptedError(forKey: .samples, in: container, debugDescription: "no samples")
            }
            self = .measured(summary)
        } else {
            self = .notMeasured(reason: try container.decode(String.self, forKey: .reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .measured(let summary):
            try container.encode("measured", forKey: .status)
            try container.encode(summary.p50, forKey: .p50)
            try container.encode(summary.p99, forKey: .p99)
            try container.encode(summary.min, forKey: .min)
            try container.encode(summary.max, forKey: .max)
            try container.encode(summary.samples, forKey: .samples)
        case .notMeasured(let reason):
            try container.encode("not measured", forKey: .status)
            try container.encode(reason, forKey: .reason)
        }
    }
}

/// One system the benchmark compared, and where it ran.
public struct SystemInfo: Codable, Equatable, Sendable {
    /// Stable id: host, namespace, microvm, qemu-microvm, crun, runc, host-in-rig.
    public let id: String
    /// What the row shows, e.g. "runc 1.1.5 (crun fell back: …)".
    public let label: String
    /// "host", or "kvm-rig" for rows measured inside scripts/kvm-rig.
    public let environment: String
    /// Nil when the system ran; otherwise why it is unavailable here.
    public let unavailable: String?

    public init(id: String, label: String, environment: String, unavailable: String?) {
        self.id = id
        self.label = label
        self.environment = environment
        self.unavailable = unavailable
    }
}

/// Everything one `swiftlet bench` run produced: the JSON document's shape.
public struct BenchResults: Codable, Equatable, Sendable {
    public struct MetricResults: Codable, Equatable, Sendable {
        public let metric: Metric
        /// Outcome per system id.
        public var results: [String: Outcome]

        public init(metric: Metric, results: [String: Outcome]) {
            self.metric = metric
            self.results = results
        }
    }

    public var format = "swiftlet-bench/1"
    public var created: String
    public var host: [String: String]
    public var settings: [String: String]
    /// Lines for the report's header (e.g. that VM rows ran in the rig).
    public var notes: [String]
    public var systems: [SystemInfo]
    public var metrics: [MetricResults]

    public init(created: String, host: [String: String], settings: [String: String], notes: [String],
                systems: [SystemInfo], metrics: [MetricResults]) {
        self.created = created
        self.host = host
        self.settings = settings
        self.notes = notes
        self.systems = systems
        self.metrics = metrics
    }

    /// The outcome of `metric` on `system`, nil when never recorded.
    public func outcome(_ metric: String, _ system: String) -> Outcome? {
        metrics.first { $0.metric.id == metric }?.results[system]
    }
}
