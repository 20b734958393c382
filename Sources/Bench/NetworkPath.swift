import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Host↔container TCP for containers with their own network namespace: a veth pair
/// (`ip link add … type veth`), one end moved into the container's namespace and
/// addressed from the host with `nsenter -n`, a point-to-point /30 from 169.254.79.0/24
/// (link-local, apart from the tests' 169.254.77.0/24). The workload serves inside
/// (`tcp-server`) and the same binary on the host is the client (`tcp-client`).
struct NetworkPath {
    let hostBinary: String
    static let port = 5201
    static let hostAddress = "169.254.79.1"
    static let containerAddress = "169.254.79.2"

    /// Why the host cannot set up veth pairs (no `ip`/`nsenter`), nil when it can.
    static var unavailableReason: String? {
        for tool in ["ip", "nsenter"] where Subprocess.locate(tool) == nil {
            return "\(tool) is not installed"
        }
        return nil
    }

    func measure(_ runner: any SystemRunner, settings: BenchSettings) throws -> [String: [Double]] {
        let instance = try runner.startInstance(200, tasks: ["tcp-server:\(NetworkPath.port)"])
        defer { try? runner.teardown(instance) }
        let pid = try runner.networkNamespacePid(instance).get()
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
        let client = try Subprocess.run([hostBinary, "tcp-client:\(NetworkPath.containerAddress):\(NetworkPath.port):\(settings.networkMiB):\(settings.networkRoundTrips)"],
                                        timeout: 300)
        let output = WorkloadOutput(client.stdout)
        return ["tcp_throughput": [try output.require("tcp_gbps", from: "tcp-client")],
                "tcp_request_response": [try output.require("tcp_rr_us", from: "tcp-client")]]
    }
}
