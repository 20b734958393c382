/// How a container is isolated from the host: Linux namespaces + cgroups (the process
/// runs on the host kernel), or its own microVM (a guest kernel per container).
public enum Isolation: String, Codable, CaseIterable, Sendable {
    case namespace
    case microvm
}

/// Resource limits from `--memory`, `--cpus` and `--pids-limit` (Docker's HostConfig
/// Memory, NanoCpus, PidsLimit). A namespace container applies them through cgroups; a
/// microVM sizes the VM by them.
public struct ResourceLimits: Codable, Equatable, Sendable {
    /// Bytes of memory, swap excluded (the container cannot swap).
    public var memory: Int64?
    /// CPUs, fractional (1.5 = 150 ms of CPU time per 100 ms period).
    public var cpus: Double?
    /// Maximum number of tasks.
    public var pids: Int?
    /// Relative CPU weight (Docker's CpuShares, 1024 the default); nil: the host's default.
    public var cpuShares: Int?

    public init(memory: Int64? = nil, cpus: Double? = nil, pids: Int? = nil, cpuShares: Int? = nil) {
        self.memory = memory
        self.cpus = cpus
        self.pids = pids
        self.cpuShares = cpuShares
    }
}
