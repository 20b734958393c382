import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Swiftlet's own containers through its CLI, exactly as a user runs them:
/// `swiftlet run --rm --isolation namespace|microvm …` with the bench image, the named
/// volume `swiftlet-bench` at /vol, and 512 MiB of memory. Runs use `--network none` (an
/// empty network namespace, as the OCI runtimes' default gives crun and runc), except the
/// TCP server, which uses Docker's default `--network bridge` and is reached at its
/// address on swiftlet0: a veth pair for namespace, a TAP behind virtio-net for microVM,
/// the same host-side path for both isolations. An instance is the container's
/// monitor (`swiftlet-shim`) and everything below it: the container's
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
        let network = tasks.contains { $0.hasPrefix("tcp-server") } ? "bridge" : "none"
        return command(["run"], ["--isolation", isolation, "--memory", "512m", "--network", network] + extra
                + (volume ? ["-v", "\(SwiftletRunner.volume):/vol"] : [])
                + [BenchImage.reference, BenchImage.workloadPath] + tasks)
    }

    func prepare() throws {
        guard (try? Subprocess.run(command(["image", "inspect"], [BenchImage.reference]))) != nil else {
            throw SwiftletError("the bench image is not loaded into \(root)")
        }
        let volumes = try Subprocess.run(command(["volume", "ls"], ["-q"]))
        if !volumes.stdout.split(separator: "\n").contains(Substring(SwiftletRunner.volume)) {
            try Subprocess.run(command(["volume", "create"], [SwiftletRunner.volume]))
        }
        // One probe run: a backend that cannot run here says why.
        let probe = try Subprocess(runArguments(["--rm"], volume: false, tasks: ["start"]))
        let (status, _) = probe.wait(timeout: 300)
        guard status == 0, probe.stdout.contains("start_realtime_ns=") else {
            throw SwiftletError("swiftlet run --isolation \(isolation) failed (exit \(status)): \(probe.diagnostics)")
        }
    }

    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess {
        let process = try Subprocess(runArguments(["--rm"], volume: volume, tasks: tasks), watch: watch)
        let (status, _) = process.wait(timeout: 900)
        guard status == 0 else { throw SwiftletError("swiftlet run failed (exit \(status)): \(process.diagnostics)") }
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
            throw SwiftletError("\(instance.name): processes still running 60 s after rm -f")
        }
    }

    var rootfsDiskPath: Result<String, SwiftletError> { .success("/data") }
    var volumeDiskPath: Result<String, SwiftletError> { .success("/vol") }

    var networkUnavailable: String? { nil }

    /// The container's address on the bridge, from `swiftlet inspect`.
    func networkEndpoint(_ instance: Instance) -> Result<NetworkEndpoint, SwiftletError> {
        Result {
            let inspect = try Subprocess.run(command(["inspect"], [instance.name]))
            let entries = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]]
            let network = (entries?.first?["state"] as? [String: Any])?["network"] as? [String: Any]
            guard let address = network?["address"] as? String, let bridge = network?["bridge"] as? String else {
                throw SwiftletError("swiftlet inspect \(instance.name) shows no bridge address")
            }
            let device = isolation == "microvm" ? "a TAP device and the microVM's virtio-net" : "a veth pair"
            return .bridged(address: address, path: "the bridge \(bridge) to \(address) (\(device); --network bridge)")
        }.mapError { $0 as? SwiftletError ?? SwiftletError("\($0)") }
    }

    func cleanUp() {
        _ = try? Subprocess.run(command(["volume", "rm"], [SwiftletRunner.volume]))
    }
}
