import HostSystem
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Measures every metric on one system through its runner. A metric that fails is
/// recorded as not measured with the error; the other metrics still run.
struct SystemMeasurement {
    let runner: any SystemRunner
    let settings: BenchSettings
    let network: NetworkPath?
    let log: @Sendable (String) -> Void

    private final class Recorder: Sendable {
        let results = Mutex<[String: Outcome]>([:])

        func set(_ id: String, _ outcome: Outcome) { results.withLock { $0[id] = outcome } }

        /// Runs `body`, recording its samples (or its error) under each metric id it returns.
        func record(_ ids: [String], _ body: () throws -> [String: [Double]]) {
            do {
                let samples = try body()
                for id in ids {
                    if let summary = samples[id].flatMap(Summary.init) {
                        set(id, .measured(summary))
                    } else {
                        set(id, .notMeasured(reason: "no samples"))
                    }
                }
            } catch {
                for id in ids { set(id, .notMeasured(reason: "\(error)")) }
            }
        }
    }

    /// Every metric's outcome, and notes for the report's header.
    func measure() -> (outcomes: [String: Outcome], notes: [String]) {
        let recorder = Recorder()
        log("\(runner.id): start latency, \(settings.runs) runs")
        var notes: [String] = []
        recorder.record(["start_first_instruction", "start_to_exit"]) { try startLatency { notes.append($0) } }
        var teardowns: [Double] = []
        log("\(runner.id): memory of an idle instance, teardown")
        recorder.record(["memory_pss"]) {
            var pss: [Double] = []
            for index in 0..<settings.memoryInstances {
                let instance = try runner.startInstance(index, tasks: ["idle"])
                usleep(500_000)
                pss.append(mebibytes(instance))
                teardowns.append(try timedTeardown(instance))
            }
            return ["memory_pss": pss]
        }
        log("\(runner.id): density, \(settings.density) idle instances at once")
        recorder.record(["density_start", "density_pss"]) {
            let (samples, more) = try density()
            teardowns += more
            return samples
        }
        recorder.set("teardown", Summary(teardowns).map(Outcome.measured) ?? .notMeasured(reason: "no instance started"))
        // One run for compute, memory, syscalls and both disks: every run of a VM row
        // boots a guest, which takes seconds inside the rig.
        var diskMetrics: [String] = []
        var diskTasks: [String] = []
        for target in DiskTarget.allCases {
            switch target == .rootfs ? runner.rootfsDiskPath : runner.volumeDiskPath {
            case .success(let path):
                diskTasks.append(settings.diskTask(target, path))
                diskMetrics += target.keys.map(\.metric)
            case .failure(let error):
                for (metric, _) in target.keys { recorder.set(metric, .notMeasured(reason: error.description)) }
            }
        }
        var buffered = Set<String>()
        log("\(runner.id): cpu, memory bandwidth, getpid, disk, \(settings.workRuns) run(s)")
        recorder.record(["cpu", "memory_bandwidth", "syscall_getpid"] + diskMetrics) {
            var samples: [String: [Double]] = [:]
            for _ in 0..<settings.workRuns {
                let output = WorkloadOutput(try runner.run(settings.workTasks + diskTasks, volume: true, watch: nil).stdout)
                samples["cpu", default: []].append(try output.require("cpu_ms", from: runner.id))
                samples["memory_bandwidth", default: []].append(try output.require("mem_copy_gbs", from: runner.id))
                samples["syscall_getpid", default: []].append(try output.require("getpid_ns", from: runner.id))
                for target in DiskTarget.allCases {
                    for (metric, key) in target.keys where diskMetrics.contains(metric) {
                        samples[metric, default: []].append(try output.require(key, from: runner.id))
                    }
                    if output.values["disk_\(target.rawValue)_direct"] == 0 {
                        buffered.insert(target.rawValue)
                    }
                }
            }
            return samples
        }
        if !buffered.isEmpty {
            notes.append("\(runner.id): the \(buffered.sorted().joined(separator: " and ")) disk test ran with buffered I/O (that filesystem refuses O_DIRECT), so its reads may come from the page cache")
        }
        log("\(runner.id): network")
        recorder.record(["tcp_throughput", "tcp_request_response"]) {
            if let reason = runner.networkUnavailable { throw SwiftletError(reason) }
            guard let network else { throw SwiftletError(NetworkPath.unavailableReason ?? "no network path") }
            let (samples, path) = try network.measure(runner, settings: settings)
            notes.append("\(runner.id): TCP over \(path)")
            return samples
        }
        return (recorder.results.withLock { $0 }, notes)
    }

    /// Start latency per run. First instruction: the workload's CLOCK_REALTIME at main()
    /// minus ours at launch; a guest whose clock is not the host's (no kvmclock wall
    /// clock) gets, instead, the time its first line reached the host, which is later by
    /// the output path (`Note`d).
    private func startLatency(note: (String) -> Void) throws -> [String: [Double]] {
        var first: [Double] = [], exit: [Double] = []
        var clockMismatch: String?
        for _ in 0..<settings.runs {
            let marker = "start_realtime_ns="
            let process = try runner.run(["start"], volume: false, watch: marker)
            let started = try WorkloadOutput(process.stdout).require("start_realtime_ns", from: runner.id)
            guard let exited = process.exitedMonotonic, let seen = process.watchSeen else {
                throw SwiftletError("no exit or output time recorded")
            }
            let toExit = (exited - process.launchedMonotonic) * 1000
            var toFirst = (started - Double(process.launchedRealtime)) / 1e6
            if toFirst < 0 || toFirst > toExit {
                clockMismatch = "\(Int(toFirst)) ms"
                toFirst = (seen - process.launchedMonotonic) * 1000
            }
            first.append(toFirst)
            exit.append(toExit)
        }
        if let clockMismatch {
            note("\(runner.id): the workload's CLOCK_REALTIME is not the host's (it put main() \(clockMismatch) after launch), so start_first_instruction is the arrival of its first output line on the host, an upper bound")
        }
        return ["start_first_instruction": first, "start_to_exit": exit]
    }

    private func mebibytes(_ instance: Instance) -> Double {
        Double(HostProcesses.pssKiB(HostProcesses.trees(instance.roots()))) / 1024
    }

    private func timedTeardown(_ instance: Instance) throws -> Double {
        let start = Clock.monotonic()
        try runner.teardown(instance)
        return (Clock.monotonic() - start) * 1000
    }

    /// Starts `settings.density` idle instances at once; the time until all are ready,
    /// their PSS per instance, and then each one's teardown time.
    private func density() throws -> ([String: [Double]], [Double]) {
        let count = settings.density
        let started = Mutex<[Instance]>([])
        let failures = Mutex<[String]>([])
        // One thread per instance (concurrentPerform would run only as many as there are CPUs).
        let group = DispatchGroup()
        let begin = Clock.monotonic()
        for index in 0..<count {
            group.enter()
            Thread { [runner] in
                do {
                    let instance = try runner.startInstance(100 + index, tasks: ["idle"])
                    started.withLock { $0.append(instance) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
                group.leave()
            }.start()
        }
        group.wait()
        let instances = started.withLock { $0 }
        let allReady = instances.map(\.readyAt).max() ?? begin
        usleep(500_000)
        let pss = instances.map(mebibytes).reduce(0, +)
        var teardowns: [Double] = []
        for instance in instances { teardowns.append(try timedTeardown(instance)) }
        if let failure = failures.withLock({ $0.first }) {
            throw SwiftletError("\(count - instances.count) of \(count) instances did not start: \(failure)")
        }
        return (["density_start": [(allReady - begin) * 1000], "density_pss": [pss / Double(count)]], teardowns)
    }
}
