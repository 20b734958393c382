import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The native baseline: the workload binary run directly on this kernel, no isolation.
/// Its disk tests use a directory on the filesystem that holds the state root, the one
/// namespace containers' overlays and volumes live on. Inside scripts/kvm-rig this is
/// the rig's own baseline ("host-in-rig") for the VM rows measured there.
final class HostRunner: SystemRunner {
    let id: String
    let label: String
    private let binary: String
    private let scratch: String

    init(id: String, label: String, binary: String, scratch: String) {
        self.id = id
        self.label = label
        self.binary = binary
        self.scratch = scratch
    }

    func prepare() throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess {
        let process = try Subprocess([binary] + tasks.map(hostTask), watch: watch)
        let (status, _) = process.wait(timeout: 600)
        guard status == 0 else { throw SwiftletError("workload failed (exit \(status)): \(process.diagnostics)") }
        return process
    }

    /// Guest paths in disk tasks (…:/data:…, …:/vol:…) become the scratch directory.
    private func hostTask(_ task: String) -> String {
        guard task.hasPrefix("disk:") else { return task }
        return task.replacingOccurrences(of: ":/data:", with: ":\(scratch):").replacingOccurrences(of: ":/vol:", with: ":\(scratch):")
    }

    func startInstance(_ index: Int, tasks: [String]) throws -> Instance {
        let process = try Subprocess([binary] + tasks)
        let ready = try process.waitForOrKill("ready=1", timeout: 60)
        let pid = process.pid
        return Instance(name: "host-\(index)", launcher: process, readyAt: ready) { [pid] }
    }

    func teardown(_ instance: Instance) throws {
        instance.launcher.signal(SIGKILL)
        instance.launcher.wait(timeout: 30)
    }

    var rootfsDiskPath: Result<String, SwiftletError> { .success("/data") }
    var volumeDiskPath: Result<String, SwiftletError> { .success("/vol") }

    var networkUnavailable: String? { "the native baseline has no container network (loopback is not comparable)" }

    func networkEndpoint(_ instance: Instance) -> Result<NetworkEndpoint, SwiftletError> {
        .failure(SwiftletError(networkUnavailable ?? ""))
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: scratch)
    }
}
