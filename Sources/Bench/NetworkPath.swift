import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the host reaches a container's workload over TCP.
enum NetworkEndpoint: Equatable {
    /// A container with a network namespace of its own and no address (crun, runc: the
    /// OCI spec's default): the benchmark wires it with a veth pair.
    case namespace(pid_t)
    /// A container already on a host bridge with an address (swiftlet's `--network
    /// bridge`); `path` says which devices carry it, for the report.
    case bridged(address: String, path: String)
}

/// Host↔container TCP. The workload serves inside (`tcp-server`) and the same binary on
/// the host is the client (`tcp-client`), to the container's address:
///
/// - `.namespace`: a veth pair (`ip link add … type veth`), one end moved into the
///   container's namespace and addressed from the host with `nsenter -n`, a point-to-point
///   /30 from 169.254.79.0/24 (link-local, apart from the tests' 169.254.77.0/24);
/// - `.bridged`: the address the container has on swiftlet's bridge swiftlet0 (a veth end
///   for a namespace container, a TAP behind virtio-net for a microVM), so both swiftlet
///   isolations are measured over the same host-side path.
struct NetworkPath {
    let hostBinary: String
    static let port = 5201
    static let hostAddress = "169.254.79.1"
    static let containerAddress = "169.254.79.2"

    /// Why the host cannot set up veth pairs (no `ip`/`nsenter`), nil when it can.
    static var unavailableReason: String? {
        for tool in ["ip", "nsenter"] where ChildProcess.locate(tool) == nil {
            return "\(tool) is not installed"
        }
        return nil
    }

    /// The samples of both TCP metrics, and the path they were taken over.
    func measure(_ runner: any SystemRunner, settings: BenchSettings) throws -> (samples: [String: [Double]], path: String) {
        let instance = try runner.startInstance(200, tasks: ["tcp-server:\(NetworkPath.port)"])
        defer { try? runner.teardown(instance) }
        switch try runner.networkEndpoint(instance).get() {
        case .bridged(let address, let path):
            return (try exchange(with: address, settings: settings), path)
        case .namespace(let pid):
            return (try overVeth(namespaceOf: pid, settings: settings), "a veth pair into its network namespace (169.254.79.0/30)")
        }
    }

    private func overVeth(namespaceOf pid: pid_t, settings: BenchSettings) throws -> [String: [Double]] {
        let hostEnd = "sbh\(getpid() % 100000)", containerEnd = "sbc\(getpid() % 100000)"
        try Subprocess.run(["ip", "link", "add", hostEnd, "type", "veth", "peer", "name", containerEnd])
        defer { _ = try? Subprocess.run(["ip", "link", "del", hostEnd]) }
        let inside = ["nsenter", "-t", "\(pid)", "-n", "ip"]
        try Subprocess.run(["ip", "link", "set", containerEnd, "netns", "\(pid)"])
        try Subprocess.run(["ip", "addr", "add", "\(NetworkPath.hostAddress)/30", "dev", hostEnd])
        try Subprocess.run(["ip", "link", "set", hostEnd, "up"])
        try Subprocess.run(inside + ["addr", "add", "\(NetworkPath.containerAddress)/30", "dev", containerEnd])
        try Subprocess.run(inside + ["link", "set", containerEnd, "up"])
        try Subprocess.run(inside + ["link", "set", "lo", "up"])
        return try exchange(with: NetworkPath.containerAddress, settings: settings)
    }

    private func exchange(with address: String, settings: BenchSettings) throws -> [String: [Double]] {
        let client = try Subprocess.run([hostBinary, "tcp-client:\(address):\(NetworkPath.port):\(settings.networkMiB):\(settings.networkRoundTrips)"],
                                        timeout: 300)
        let output = WorkloadOutput(client.stdout)
        return ["tcp_throughput": [try output.require("tcp_gbps", from: "tcp-client")],
                "tcp_request_response": [try output.require("tcp_rr_us", from: "tcp-client")]]
    }
}
