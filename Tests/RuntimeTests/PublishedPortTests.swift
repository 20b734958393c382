import ChildProcess
import Foundation
import HostSystem
@testable import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Outbound NAT and published ports (under every available isolation where the packet
/// path is the host's), against a test host of
/// this suite's own ("the outside world"): a network namespace behind a veth pair routed
/// through the host, 198.51.100.1/24 (TEST-NET-2) inside, 198.51.100.254/24 on the
/// host's end, serving a page with busybox httpd. Serialized: each test's outside host
/// takes the same subnet. After each test no rule or address of its containers is left.
@Suite(.serialized) struct PublishedPortTests {
    static let page = "swiftlet-outside-page"

    @Test(arguments: TestIsolation.available)
    func containerFetchesAPageFromOutsideThroughNAT(isolation: Isolation) throws {
        let outside = try OutsideHost()
        defer { outside.remove() }
        let name = Swiftlet.name("nat")
        let fetch = try swiftlet("run", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                                 "sh", "-c", "wget -qO- http://198.51.100.1:\(outside.port)/index.html && { cat /etc/resolv.conf || true; }")
        let id = try containerID(name)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(fetch.stdout.hasPrefix(Self.page + "\n"), "\(fetch.stdout)")
        #expect(fetch.stdout.contains("nameserver "), "the container has no resolver: \(fetch.stdout)")
        #expect(!fetch.stdout.contains("nameserver 127."), "\(fetch.stdout)")
        #expect(try swiftlet("rm", name).status == 0)
        try expectNothingLeft(of: id)
    }

    /// A user-defined network has the same way out; an `--internal` one has none.
    @Test(arguments: TestIsolation.available)
    func userNetworkReachesOutsideAndAnInternalOneCannot(isolation: Isolation) throws {
        let outside = try OutsideHost()
        defer { outside.remove() }
        let (open, closed) = (Swiftlet.name("natnet"), Swiftlet.name("internal"))
        defer { _ = try? swiftlet("network", "rm", open, closed) }
        let ids = [try createNetwork(open), try createNetwork(closed, "--internal")]
        let url = "http://198.51.100.1:\(outside.port)/index.html"
        let fetch = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", open, Swiftlet.busybox, "wget", "-qO-", url)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(fetch.stdout == Self.page + "\n")
        let blocked = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", closed, Swiftlet.busybox,
                                   "timeout", "5", "wget", "-qO-", url)
        #expect(blocked.status != 0, "an internal network reached the outside: \(blocked.stdout)")
        #expect(try swiftlet("network", "rm", open, closed).status == 0)
        try expectNoLeftovers(ofNetworks: ids)
    }

    @Test(arguments: TestIsolation.available)
    func publishedPortIsReachableFromLoopbackOutsideAndOtherContainers(isolation: Isolation) throws {
        let outside = try OutsideHost()
        defer { outside.remove() }
        let port = try freePort()
        let name = Swiftlet.name("web")
        defer { _ = try? swiftlet("rm", "-f", name) }
        try startWebServer(name, isolation: isolation, publish: "\(port):80")
        let id = try containerID(name)
        let page = "hello-from-\(name)\n"
        #expect(try hostFetch("http://127.0.0.1:\(port)/") == page, "loopback")
        #expect(try outside.fetch("http://198.51.100.254:\(port)/") == page, "from the outside host")
        let hairpin = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                   "wget", "-qO-", "http://198.51.100.254:\(port)/")
        #expect(hairpin.status == 0, "\(hairpin.stderr)")
        #expect(hairpin.stdout == page, "hairpin through the host's address")
        let rules = try ChildProcess.run(["iptables-save", "-t", "nat"]).stdout
        #expect(rules.contains("--comment \"swiftlet:\(id.prefix(12))\""), "\(rules)")

        // The same host port for a second container: a clear error at start.
        let second = Swiftlet.name("web2")
        defer { _ = try? swiftlet("rm", "-f", second) }
        let busy = try swiftlet("run", "-d", "--name", second, "--isolation", isolation.rawValue, "-p", "\(port):80",
                                Swiftlet.busybox, "sleep", "100")
        #expect(busy.status != 0)
        #expect(busy.stderr.contains("Bind for 0.0.0.0:\(port) failed: port is already allocated"), "\(busy.stderr)")
        let secondID = try containerID(second)
        #expect(try swiftlet("rm", "-f", second).status == 0)
        try expectNothingLeft(of: secondID)
        #expect(try hostFetch("http://127.0.0.1:\(port)/") == page, "the first container keeps its port")

        #expect(try swiftlet("rm", "-f", name).status == 0)
        try expectNothingLeft(of: id)
    }

    @Test(arguments: TestIsolation.namespaces)
    func ephemeralPortIsReportedByPortAndInspect(isolation: Isolation) throws {
        let name = Swiftlet.name("eph")
        defer { _ = try? swiftlet("rm", "-f", name) }
        try startWebServer(name, isolation: isolation, publish: "80")
        let id = try containerID(name)
        let listing = try swiftlet("port", name)
        #expect(listing.status == 0, "\(listing.stderr)")
        let endpoint = try #require(listing.stdout.split(separator: "\n").first.map(String.init))
        #expect(endpoint.hasPrefix("80/tcp -> 0.0.0.0:"), "\(listing.stdout)")
        let hostPort = String(endpoint.dropFirst("80/tcp -> 0.0.0.0:".count))
        #expect(try swiftlet("port", name, "80/tcp").stdout == "0.0.0.0:\(hostPort)\n")
        let missing = try swiftlet("port", name, "81")
        #expect(missing.status != 0 && missing.stderr.contains("No public port '81/tcp'"), "\(missing.stderr)")
        let inspect = try JSONSerialization.jsonObject(with: Data(try swiftlet("inspect", name).stdout.utf8)) as? [[String: Any]]
        let ports = (inspect?.first?["NetworkSettings"] as? [String: Any])?["Ports"] as? [String: Any]
        let bindings = ports?["80/tcp"] as? [[String: String]]
        #expect(bindings == [["HostIp": "0.0.0.0", "HostPort": hostPort]], "\(String(describing: ports))")
        #expect(try hostFetch("http://127.0.0.1:\(hostPort)/") == "hello-from-\(name)\n")
        #expect(try swiftlet("stop", "-t", "1", name).status == 0)
        try expectNothingLeft(of: id)
        #expect(try swiftlet("port", name).stdout == "", "a stopped container publishes nothing")
    }

    /// A monitor killed with SIGKILL leaves its rules; the clean-up of the next command
    /// that reads the container's state (`refreshedState`) removes them and the address.
    @Test func rulesGoWithADeadMonitor() throws {
        let name = Swiftlet.name("orphan")
        defer { _ = try? swiftlet("rm", "-f", name) }
        try startWebServer(name, isolation: .namespace, publish: "80")
        let id = try containerID(name)
        let state = try #require(try inspected(name, section: "state"))
        let shim = try #require(state["shimPid"] as? Int32), pid = try #require(state["pid"] as? Int32)
        let rules = try ChildProcess.run(["iptables-save", "-t", "nat"]).stdout
        #expect(rules.contains("swiftlet:\(id.prefix(12))"))
        #expect(kill(shim, SIGKILL) == 0)
        // tail(1) returns once the monitor has ended.
        #expect(try ChildProcess.run(["tail", "--pid=\(shim)", "-f", "/dev/null"], timeout: 60).status == 0)
        _ = kill(pid, SIGKILL)  // the container's init, if it outlived its monitor
        #expect(try inspected(name, section: "state")?["status"] as? String == "exited")
        try expectNothingLeft(of: id)
    }

    @Test func portBusyOnTheHostIsAClearError() throws {
        let socket = try BoundSocket()
        let name = Swiftlet.name("busy")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let run = try swiftlet("run", "--name", name, "--isolation", "namespace", "-p", "\(socket.port):80",
                               Swiftlet.busybox, "true")
        #expect(run.status != 0)
        #expect(run.stderr.contains("port is already allocated"), "\(run.stderr)")
        try expectNothingLeft(of: try containerID(name))
    }

    @Test(arguments: ["99999", "80/sctp", "1.2.3:80:80", "8000-8001:80"])
    func badPublishSpecExits125(spec: String) throws {
        let run = try swiftlet("run", "--rm", "--isolation", "namespace", "-p", spec, Swiftlet.busybox, "true")
        #expect(run.status == 125)
        #expect(run.stderr.contains("invalid port specification '\(spec)'"), "\(run.stderr)")
    }

    /// Starts busybox httpd in container `name` serving "hello-from-NAME", returning once it listens.
    private func startWebServer(_ name: String, isolation: Isolation, publish: String) throws {
        let script = "mkdir -p /www && echo hello-from-\(name) > /www/index.html && httpd -p 80 -h /www && echo ready && exec sleep 1000"
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, "-p", publish,
                               Swiftlet.busybox, "sh", "-c", script)
        try #require(run.status == 0, "\(run.stderr)")
        let logs = try swiftletInBackground("logs", "-f", name)
        defer { _ = logs.waitKilling(after: 0) }
        try #require(logs.waitForOutput("ready\n", timeout: Swiftlet.commandTimeout), "\(diagnostics(name))")
    }

    private func hostFetch(_ url: String) throws -> String {
        try httpGet(url, from: [])
    }

    /// No DNAT rule of container `id`, no rule naming its address, no address held.
    private func expectNothingLeft(of id: String) throws {
        try #require(!id.isEmpty)
        let rules = try ChildProcess.run(["iptables-save"]).stdout
        #expect(!rules.contains("swiftlet:\(id.prefix(12))"), "\(rules)")
        let table = (try? String(contentsOfFile: "\(BridgeNetwork.defaultTableDirectory)/swiftlet0.json", encoding: .utf8)) ?? ""
        #expect(!table.contains(id), "\(table)")
    }
}

/// The body of an HTTP/1.0 GET of `url` (`http://IP:PORT/PATH`) with `busybox nc`, run
/// after `prefix` (a namespace to run in): the host's busybox-static `wget` crashes in
/// glibc's NSS even for an address.
func httpGet(_ url: String, from prefix: [String]) throws -> String {
    let rest = url.dropFirst("http://".count)
    let slash = rest.firstIndex(of: "/") ?? rest.endIndex
    let endpoint = rest[..<slash].split(separator: ":").map(String.init)
    let request = "GET \(rest[slash...].isEmpty ? "/" : String(rest[slash...])) HTTP/1.0\r\n\r\n"
    let result = try ChildProcess.run(prefix + ["busybox", "nc", "-w", "20", endpoint[0], endpoint[1]],
                                      stdin: .bytes(Array(request.utf8)))
    #expect(result.status == 0, "\(url): \(result.stderr)")
    guard let body = result.stdout.range(of: "\r\n\r\n") else { return "no HTTP response: \(result.stdout)" }
    return String(result.stdout[body.upperBound...])
}

/// A free TCP port on the host now (the kernel's choice for port 0).
func freePort() throws -> UInt16 {
    try BoundSocket().port
}

/// A TCP socket listening on an ephemeral port on every address, closed when released.
final class BoundSocket {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = try sys("socket") { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                try sys("bind") { bind(fd, socketAddress, length) }
                try sys("listen") { listen(fd, 1) }
                try sys("getsockname") { getsockname(fd, socketAddress, &length) }
            }
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

/// The test's "outside world": network namespace `slt-…` with 198.51.100.1/24 on its
/// eth0, the veth's host end 198.51.100.254/24, and busybox httpd on 198.51.100.1:`port`
/// serving `PublishedPortTests.page`. `remove()` ends the server and deletes both.
struct OutsideHost {
    let namespace: String
    let hostEnd: String
    let directory: String
    let port: UInt16 = 8000

    init() throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        namespace = "slt-\(tag)"
        hostEnd = "slt\(tag)"
        directory = NSTemporaryDirectory() + "outside-\(tag)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "\(PublishedPortTests.page)\n".write(toFile: "\(directory)/index.html", atomically: true, encoding: .utf8)
        do {
            try run(["ip", "netns", "add", namespace])
            try run(["ip", "link", "add", hostEnd, "type", "veth", "peer", "name", "eth0", "netns", namespace])
            try run(["ip", "addr", "add", "198.51.100.254/24", "dev", hostEnd])
            try run(["ip", "link", "set", hostEnd, "up"])
            try run(["ip", "-n", namespace, "addr", "add", "198.51.100.1/24", "dev", "eth0"])
            try run(["ip", "-n", namespace, "link", "set", "eth0", "up"])
            try run(["ip", "-n", namespace, "link", "set", "lo", "up"])
            // httpd forks into the background once it listens.
            try run(["ip", "netns", "exec", namespace, "busybox", "httpd", "-p", "198.51.100.1:\(port)", "-h", directory])
        } catch {
            remove()
            throw error
        }
    }

    /// The body at `url`, fetched from inside the outside host.
    func fetch(_ url: String) throws -> String {
        try httpGet(url, from: ["ip", "netns", "exec", namespace])
    }

    func remove() {
        let pids = (try? ChildProcess.run(["ip", "netns", "pids", namespace]).stdout) ?? ""
        for pid in pids.split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        _ = try? ChildProcess.run(["ip", "link", "del", hostEnd])
        _ = try? ChildProcess.run(["ip", "netns", "del", namespace])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ command: [String]) throws {
        let result = try ChildProcess.run(command)
        guard result.status == 0 else { throw SwiftletError("\(command.joined(separator: " ")): \(result.stderr)") }
    }
}
