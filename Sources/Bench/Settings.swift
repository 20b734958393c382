/// How much work one bench run does: sample counts and workload sizes. `quick` is the
/// reduced set (`--quick`); `full` the default.
public struct BenchSettings: Codable, Equatable, Sendable {
    /// Samples of the start metrics.
    public var runs: Int
    /// Idle instances measured one at a time for memory (and teardown).
    public var memoryInstances: Int
    /// Idle instances started concurrently for the density test.
    public var density: Int
    /// Runs of the compute/memory/syscall workload.
    public var workRuns: Int
    public var cpuPasses: Int
    public var memoryMiB: Int
    public var syscalls: Int
    public var diskMiB: Int
    public var diskOps: Int
    public var networkMiB: Int
    public var networkRoundTrips: Int

    public static let quick = BenchSettings(runs: 5, memoryInstances: 1, density: 4, workRuns: 1, cpuPasses: 50,
                                            memoryMiB: 32, syscalls: 200_000, diskMiB: 32, diskOps: 500,
                                            networkMiB: 32, networkRoundTrips: 300)
    public static let full = BenchSettings(runs: 20, memoryInstances: 3, density: 16, workRuns: 3, cpuPasses: 400,
                                           memoryMiB: 128, syscalls: 2_000_000, diskMiB: 256, diskOps: 4000,
                                           networkMiB: 512, networkRoundTrips: 10000)

    /// The workload tasks of the compute/memory/syscall run.
    var workTasks: [String] { ["cpu:\(cpuPasses)", "mem:\(memoryMiB)", "syscall:\(syscalls)"] }

    /// The disk task for `target` at a path inside the container.
    func diskTask(_ target: DiskTarget, _ path: String) -> String { "disk:\(target.rawValue):\(path):\(diskMiB):\(diskOps)" }
}
