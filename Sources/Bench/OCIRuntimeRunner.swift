import HostSystem
import ChildProcess
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A peer: an OCI runtime (crun, else runc) running the bench image's unpacked rootfs
/// from an OCI runtime-spec bundle (runtime-spec v1.0 config.md: the runtime's own
/// `spec` default — pid, network, ipc, uts and mount namespaces — with the workload as
/// process, a writable root, and the bench volume bind-mounted at /vol). crun 1.8 refuses
/// hosts with hybrid cgroups ("cgroups in hybrid mode not supported"); `probe` detects
/// that and the suite falls back to runc, labelled as such. An instance is the
/// container's process tree; these runtimes leave no monitor process behind.
final class OCIRuntimeRunner: SystemRunner {
    let id: String
    let label: String
    private let tool: String
    private let rootfs: String
    private let directory: String
    private let baseSpec: Data
    private let counter = Mutex(0)

    /// Sets up `tool` (crun or runc) with bundles under `directory`; throws when the tool
    /// is not installed or cannot run a container on this host (the reason).
    init(tool: String, rootfs: String, directory: String, note: String? = nil) throws {
        guard let path = ChildProcess.locate(tool) else {
            throw SwiftletError("\(tool) is not installed (scripts/setup installs it)")
        }
        self.tool = path
        id = tool
        let version = (try? Subprocess.run([path, "--version"]).stdout)?
            .split(separator: "\n").first.map { String($0) } ?? tool
        label = note.map { "\(version) (\($0))" } ?? version
        self.rootfs = rootfs
        self.directory = directory
        let specDirectory = "\(directory)/spec"
        try? FileManager.default.removeItem(atPath: specDirectory)
        try FileManager.default.createDirectory(atPath: "\(directory)/volume", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: specDirectory, withIntermediateDirectories: true)
        try Subprocess.run([path, "spec", "--bundle", specDirectory])
        baseSpec = try Data(contentsOf: URL(fileURLWithPath: "\(specDirectory)/config.json"))
    }

    /// A new bundle whose process runs the workload with `tasks`; returns (id, bundle).
    private func bundle(_ tasks: [String], volume: Bool) throws -> (String, String) {
        let number = counter.withLock { value in
            value += 1
            return value
        }
        let name = "swiftlet-bench-\(getpid())-\(number)"
        let path = "\(directory)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard var spec = try JSONSerialization.jsonObject(with: baseSpec) as? [String: Any],
              var process = spec["process"] as? [String: Any],
              var mounts = spec["mounts"] as? [[String: Any]] else {
            throw SwiftletError("\(tool) spec printed an unexpected config.json")
        }
        process["args"] = [BenchImage.workloadPath] + tasks
        process["terminal"] = false
        spec["process"] = process
        spec["root"] = ["path": rootfs, "readonly": false]
        if volume {
            mounts.append(["destination": "/vol", "type": "bind", "source": "\(directory)/volume", "options": ["rbind", "rw"]])
        }
        spec["mounts"] = mounts
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: "\(path)/config.json"))
        return (name, path)
    }

    func prepare() throws {
        _ = try run(["start"], volume: false, watch: nil)
    }

    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess {
        let (name, path) = try bundle(tasks, volume: volume)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = try Subprocess([tool, "run", "--bundle", path, name], watch: watch)
        let (status, _) = process.wait(timeout: 600)
        guard status == 0 else {
            _ = try? Subprocess.run([tool, "delete", "-f", name])
            throw SwiftletError("\(id) run failed (exit \(status)): \(process.diagnostics)")
        }
        return process
    }

    func startInstance(_ index: Int, tasks: [String]) throws -> Instance {
        let (name, path) = try bundle(tasks, volume: false)
        // Detached, the container's stdio is the runtime's: our pipe, which keeps the
        // workload's "ready" line after the runtime itself has exited.
        let process = try Subprocess([tool, "run", "--detach", "--bundle", path, name])
        let ready: Double, pid: pid_t
        do {
            ready = try process.waitFor("ready=1", timeout: 60)
            let state = try Subprocess.run([tool, "state", name])
            guard let json = try JSONSerialization.jsonObject(with: Data(state.stdout.utf8)) as? [String: Any],
                  let statePid = (json["pid"] as? NSNumber)?.int32Value, statePid > 0 else {
                throw SwiftletError("\(id) state \(name) has no pid")
            }
            pid = statePid
        } catch {
            _ = try? Subprocess.run([tool, "delete", "--force", name])
            throw error
        }
        return Instance(name: name, launcher: process, readyAt: ready) { [pid] }
    }

    func teardown(_ instance: Instance) throws {
        let processes = HostProcesses.trees(instance.roots())
        try Subprocess.run([tool, "delete", "--force", instance.name], timeout: 60)
        guard HostProcesses.waitGone(processes, timeout: 30) else {
            throw SwiftletError("\(instance.name): processes still running 30 s after delete --force")
        }
        try? FileManager.default.removeItem(atPath: "\(directory)/\(instance.name)")
    }

    var rootfsDiskPath: Result<String, SwiftletError> { .success("/data") }
    var volumeDiskPath: Result<String, SwiftletError> { .success("/vol") }

    var networkUnavailable: String? { nil }

    func networkEndpoint(_ instance: Instance) -> Result<NetworkEndpoint, SwiftletError> {
        guard let pid = instance.roots().first else { return .failure(SwiftletError("the container has no process")) }
        return .success(.namespace(pid))
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
