import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Swiftlet's own containers through its CLI, exactly as a user runs them:
/// `swiftlet run --rm --isolation namespace|microvm …` with the bench image, the named
/// volume `swiftlet-bench` at /vol, and 512 MiB of memory. An instance is the container's
/// monitor (`swiftlet container-shim`) and everything below it: the container's
/// processes (namespace) or the VMM (microVM); the attached CLI client is not counted.
final class SwiftletRunner: SystemRunner {
    let id: String
    let label: String
    private let swiftlet: String
    private let root: String
    private let isolation: String
    static let volume = "swiftlet-bench"

    init(isolation: String, swiftlet: String, root: String) {
        id = isolation
        label = isolation == "microvm" ? "swiftlet microVM" : "swiftlet namespace"
        self.isolation = isolation
        self.swiftlet = swiftlet
        self.root = root
    }

    /// `swiftlet SUBCOMMAND… --root ROOT ARGUMENTS…`.
    private func command(_ subcommand: [String], _ arguments: [String] = []) -> [String] {
        [swiftlet] + subcommand + ["--root", root] + arguments
    }

    private func runArguments(_ extra: [String], volume: Bool, tasks: [String]) -> [String] {
        command(["run"], ["--isolation", isolation, "--memory", "512m"] + extra
                + (volume ? ["-v", "\(SwiftletRunner.volume):/vol"] : [])
                + [BenchImage.reference, BenchImage.workloadPath] + tasks)
    }

    func prepare() throws {
        guard (try? Subprocess.run(command(["image", "inspect"], [BenchImage.reference]))) != nil else {
            throw BenchError("the bench image is not loaded into \(root)")
        }
        let volumes = try Subprocess.run(command(["volume", "ls"], ["-q"]))
        if !volumes.stdout.split(separator: "\n").contains(Substring(SwiftletRunner.volume)) {
            try Subprocess.run(command(["volume", "create"], [SwiftletRunner.volume]))
        }
        // One probe run: a backend that cannot run here says why.
        let probe = try Subprocess(runArguments(["--rm"], volume: false, tasks: ["start"]))
        let (status, _) = probe.wait(timeout: 300)
        guard status == 0, probe.stdout.contains("start_realtime_ns=") else {
            throw BenchError("swiftlet run --isolation \(isolation) failed (exit \(status)): \(probe.diagnostics)")
        }
    }

    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess {
        let process = try Subprocess(runArguments(["--rm"], volume: volume, tasks: tasks), watch: watch)
        let (status, _) = process.wait(timeout: 900)
        guard status == 0 else { throw BenchError("swiftlet run failed (exit \(status)): \(process.diagnostics)") }
        return process
    }

    func startInstance(_ index: Int, tasks: [String]) throws -> Instance {
        let name = "swiftlet-bench-\(isolation)-\(index)-\(getpid())"
        // Not --rm: `rm -f` racing the monitor's own removal of an --rm container fails
        // ("cannot read …/state.json"); teardown is `rm -f` alone.
        let process = try Subprocess(runArguments(["--name", name], volume: false, tasks: tasks))
        let ready: Double
        do {
            ready = try process.waitFor("ready=1", timeout: 300)
        } catch {
            _ = try? Subprocess.run(command(["rm"], ["-f", name]), timeout: 120)
            process.signal(SIGKILL)
            throw error
        }
        let client = process.pid
        // The shim is the CLI client's child (it waits for it); the client is not counted.
        return Instance(name: name, launcher: process, readyAt: ready) {
            HostProcesses.trees([client]).subtracting([client]).sorted()
        }
    }

    func teardown(_ instance: Instance) throws {
        let processes = HostProcesses.trees(instance.roots())
        try Subprocess.run(command(["rm"], ["-f", instance.name]), timeout: 120)
        instance.launcher.wait(timeout: 120)
        guard HostProcesses.waitGone(processes, timeout: 60) else {
            throw BenchError("\(instance.name): processes still running 60 s after rm -f")
        }
    }

    var rootfsDiskPath: Result<String, BenchError> { .success("/data") }
    var volumeDiskPath: Result<String, BenchError> { .success("/vol") }

    var networkUnavailable: String? {
        isolation == "namespace" ? nil : "microVM containers have no network device yet (Runtime attaches no virtio-net; roadmap step 7)"
    }

    func networkNamespacePid(_ instance: Instance) -> Result<pid_t, BenchError> {
        if let networkUnavailable { return .failure(BenchError(networkUnavailable)) }
        // The container's init is the shim's child.
        let client = instance.launcher.pid
        let tree = HostProcesses.trees([client])
        let shim = tree.first { HostProcesses.parent(of: $0) == client }
        guard let shim, let initPid = tree.first(where: { HostProcesses.parent(of: $0) == shim }) else {
            return .failure(BenchError("cannot find the container's init process below its monitor"))
        }
        return .success(initPid)
    }

    func cleanUp() {
        _ = try? Subprocess.run(command(["volume", "rm"], [SwiftletRunner.volume]))
    }
}
