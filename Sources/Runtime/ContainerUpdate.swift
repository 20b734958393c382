import HostSystem
import Foundation

/// What `update` changes (Docker's `docker update` flags and the update body's Resources
/// and RestartPolicy): nil leaves a value as it is.
public struct ResourceUpdate: Sendable {
    /// Bytes (at least `MemoryLimit.minimum`).
    public var memory: Int64?
    public var cpus: Double?
    /// 0 or below: no limit.
    public var pids: Int?
    public var cpuShares: Int?
    public var restartPolicy: RestartPolicy?

    public init(memory: Int64? = nil, cpus: Double? = nil, pids: Int? = nil, cpuShares: Int? = nil, restartPolicy: RestartPolicy? = nil) {
        self.memory = memory
        self.cpus = cpus
        self.pids = pids
        self.cpuShares = cpuShares
        self.restartPolicy = restartPolicy
    }

    public var isEmpty: Bool { memory == nil && cpus == nil && pids == nil && cpuShares == nil && restartPolicy == nil }
}

extension Runtime {
    /// `update`: a running namespace container's cgroup gets the new limits at once, and
    /// the stored config keeps them for its next start. A microVM container's VMM group
    /// takes a new CPU quota and CPU weight live; its guest's memory size and vCPU count are
    /// fixed while it runs (a memory change is refused then; the vCPUs follow at the next
    /// start, which the returned warnings say), and a process limit has no host meaning
    /// for it. A new restart policy applies from the container's next exit (its monitor
    /// reads it then). Returns warnings, an `update` event is recorded.
    public func update(_ reference: String, _ update: ResourceUpdate) throws -> [String] {
        let config = try containers.find(reference)
        if let policy = update.restartPolicy, policy.name != .no, config.autoRemove {
            throw SwiftletError("Restart policy cannot be updated because AutoRemove is enabled for the container", code: .conflict)
        }
        let running = try refreshedState(config).status == .running
        var warnings: [String] = []
        if config.isolation == .microvm {
            if update.pids != nil {
                throw SwiftletError("--pids-limit is not supported with --isolation microvm (the VM's own kernel has no limit set by the host)",
                                    code: .invalidArgument)
            }
            if running, let memory = update.memory, memory != config.limits.memory {
                throw SwiftletError("Cannot update container \(config.id): the memory of a running microVM container is fixed at its start (its guest's RAM); stop it, update it, then start it",
                                    code: .conflict)
            }
            let vcpus = MicroVMLaunch.vcpus(for: config.limits.cpus)
            if running, let cpus = update.cpus, MicroVMLaunch.vcpus(for: cpus) != vcpus {
                warnings.append("the microVM keeps its \(vcpus) vCPU(s) until it restarts; its CPU quota changed now")
            }
        }
        var live = ResourceLimits(cpus: update.cpus, cpuShares: update.cpuShares)
        if config.isolation == .namespace {
            live.memory = update.memory
            live.pids = update.pids.map { max($0, 0) }
        }
        if running, live != ResourceLimits() {
            do {
                try Cgroup.locate(config.id).apply(live)
            } catch {
                throw SwiftletError.wrap(error, "Cannot update container \(config.id)")
            }
        }
        try containers.changeConfig(config.id) { config, _ in
            if let memory = update.memory { config.limits.memory = memory }
            if let cpus = update.cpus { config.limits.cpus = cpus }
            if let pids = update.pids { config.limits.pids = pids > 0 ? pids : nil }
            if let shares = update.cpuShares { config.limits.cpuShares = shares }
            if let policy = update.restartPolicy { config.restartPolicy = policy.name == .no ? nil : policy }
        }
        recordEvent("update", config)
        return warnings
    }

}
