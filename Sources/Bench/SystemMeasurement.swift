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

    func measure() -> [String: Outcome] {
        let recorder = Recorder()
        log("\(runner.id): start latency, \(settings.runs) runs")
        recorder.record(["start_first_instruction", "start_to_exit"]) { try startLatency() }
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
        log("\(runner.id): cpu, memory bandwidth, getpid, disk, \(settings.workRuns) run(s)")
        recorder.record(["cpu", "memory_bandwidth", "syscall_getpid"] + diskMetrics) {
            var samples: [String: [Double]] = [:]
            for _ in 0..<settings.workRuns {
                let output = WorkloadOutput(try runner.run(settings.workTasks + diskTasks, volume: true).stdout)
                samples["cpu", default: []].append(try output.require("cpu_ms", from: runner.id))
                samples["memory_bandwidth", default: []].append(try output.require("mem_copy_gbs", from: runner.id))
                samples["syscall_getpid", default: []].append(try output.require("getpid_ns", from: runner.id))
                for target in DiskTarget.allCases {
                    for (metric, key) in target.keys where diskMetrics.contains(metric) {
                        samples[metric, default: []].append(try output.require(key, from: runner.id))
                    }
                }
            }
            return samples
        }
        log("\(runner.id): network")
        recorder.record(["tcp_throughput", "tcp_request_response"]) {
            if let reason = runner.networkUnavailable { throw BenchError(reason) }
            guard let network else { throw BenchError(NetworkPath.unavailableReason ?? "no network path") }
            return try network.measure(runner, settings: settings)
        }
        return recorder.results.withLock { $0 }
    }

    private func startLatency() throws -> [String: [Double]] {
        var first: [Double] = [], exit: [Double] = []
        for _ in 0..<settings.runs {
            let process = try runner.run(["start"], volume: false)
            let started = try WorkloadOutput(process.stdout).require("start_realtime_ns", from: runner.id)
            guard let exited = process.exitedMonotonic else { throw BenchError("no exit time recorded") }
            let toExit = (exited - process.launchedMonotonic) * 1000
            let toFirst = (started - Double(process.launchedRealtime)) / 1e6
            guard toFirst >= 0, toFirst <= toExit else {
                throw BenchError("the workload's clock is not the host's (first instruction at \(Int(toFirst)) ms, exit at \(Int(toExit)) ms)")
            }
            first.append(toFirst)
            exit.append(toExit)
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
        let begin = Clock.monotonic()
        DispatchQueue.concurrentPerform(iterations: count) { index in
            do {
                let instance = try runner.startInstance(100 + index, tasks: ["idle"])
                started.withLock { $0.append(instance) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        let instances = started.withLock { $0 }
        let allReady = instances.map(\.readyAt).max() ?? begin
        usleep(500_000)
        let pss = instances.map(mebibytes).reduce(0, +)
        var teardowns: [Double] = []
        for instance in instances { teardowns.append(try timedTeardown(instance)) }
        if let failure = failures.withLock({ $0.first }) {
            throw BenchError("\(count - instances.count) of \(count) instances did not start: \(failure)")
        }
        return (["density_start": [(allReady - begin) * 1000], "density_pss": [pss / Double(count)]], teardowns)
    }
}
