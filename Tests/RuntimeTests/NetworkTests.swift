import Foundation
import HostSystem
import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--network bridge|none` under every available isolation: the container and the host
/// talk over TCP through the bridge swiftlet0 (the container connects to the gateway, the
/// address `inspect` gives), the host end and the address go away with the container,
/// and `none` leaves only loopback.
@Suite struct NetworkTests {
    @Test(arguments: TestIsolation.available)
    func containerAndHostTalkOverTheBridge(isolation: Isolation) throws {
        let name = Swiftlet.name("net")
        let listener = try HostListener()
        defer { _ = try? swiftlet("rm", "-f", name) }
        // The container sends "ping" to the host's listener on the gateway and logs the reply.
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "echo ping | nc 10.88.0.1 \(listener.port)")
        try #require(run.status == 0, "\(run.stderr)")
        let network = try #require(try inspect(name)["state"]?["network"] as? [String: Any], "inspect has no network")
        let address = try #require(network["address"] as? String)
        #expect(address.hasPrefix("10.88."))
        #expect(network["gateway"] as? String == "10.88.0.1")
        #expect(network["prefix"] as? Int == 16)
        #expect(network["bridge"] as? String == "swiftlet0")
        let octets = address.split(separator: ".").map { String(format: "%02x", Int($0)!) }
        #expect(network["macAddress"] as? String == (["02", "42"] + octets).joined(separator: ":"))
        let hostInterface = try #require(network["hostInterface"] as? String)
        #expect(access("/sys/class/net/\(hostInterface)/master", F_OK) == 0, "\(hostInterface) is not on the bridge")

        let (peer, received) = try listener.exchange(replying: "pong\n", within: 60)
        #expect(peer == address)
        #expect(received == "ping\n")
        #expect(try swiftlet("wait", name).stdout.trimmed == "0")
        #expect(try swiftlet("logs", name).stdout == "pong\n")
        #expect(try inspect(name)["state"]?["network"] == nil, "a stopped container keeps no address")
        #expect(try swiftlet("rm", name).status == 0)
        #expect(access("/sys/class/net/\(hostInterface)", F_OK) != 0, "\(hostInterface) outlived the container")
    }

    /// /etc/hostname and /etc/hosts as Docker writes them: the container's address under
    /// its hostname (the address eth0 has), localhost, the IPv6 names.
    @Test(arguments: TestIsolation.available)
    func etcHostsNamesTheContainer(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--hostname", "web", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                  "sh", "-c", "cat /etc/hostname; ip -o -4 addr show eth0 | awk '{print $4}'; cat /etc/hosts")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count >= 3, "\(result.stdout)")
        #expect(lines[0] == "web")
        let address = lines[1].split(separator: "/").first.map(String.init) ?? ""
        #expect(address.hasPrefix("10.88."))
        #expect(lines.contains("127.0.0.1\tlocalhost"))
        #expect(lines.last == "\(address)\tweb")
    }

    @Test(arguments: TestIsolation.available)
    func networkNoneHasOnlyLoopback(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--network", "none", "--hostname", "quiet", "--isolation", isolation.rawValue,
                                  Swiftlet.busybox, "sh", "-c",
                                  "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ip route; cat /etc/hostname; grep -c quiet /etc/hosts || true")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "lo\nquiet\n0\n")
    }

    @Test func unknownNetworkIsRefused() throws {
        let missing = try swiftlet("create", "--isolation", "namespace", "--network", "no-such-network", Swiftlet.busybox)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("network no-such-network not found"), "\(missing.stderr)")
    }

    /// On a user-defined network the container's resolver is the embedded DNS server,
    /// which answers another container's name and alias there.
    @Test(arguments: TestIsolation.available)
    func containersResolveEachOtherOnAUserNetwork(isolation: Isolation) throws {
        let (network, server) = (Swiftlet.name("dnsnet"), Swiftlet.name("named"))
        defer {
            _ = try? swiftlet("rm", "-f", server)
            _ = try? swiftlet("network", "rm", network)
        }
        let id = try createNetwork(network)
        let started = try swiftlet("run", "-d", "--name", server, "--isolation", isolation.rawValue, "--network", network,
                                   "--network-alias", "\(server)-alias", Swiftlet.busybox, "sleep", "1000")
        try #require(started.status == 0, "\(started.stderr)")
        let address = try #require(try containerAddress(server, on: network))
        let lookup = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", network, Swiftlet.busybox,
                                  "sh", "-c", "cat /etc/resolv.conf; nslookup \(server)-alias")
        #expect(lookup.status == 0, "\(lookup.stderr)")
        let gateway = try #require((networkInspect(network)["IPAM"] as? [String: Any]).flatMap { ($0["Config"] as? [[String: String]])?.first?["Gateway"] })
        #expect(lookup.stdout.hasPrefix("nameserver \(gateway)\n"), "\(lookup.stdout)")
        #expect(lookup.stdout.contains("Address: \(address)"), "\(lookup.stdout)")
        #expect(try swiftlet("rm", "-f", server).status == 0)
        #expect(try swiftlet("network", "rm", network).status == 0)
        try expectNoLeftovers(ofNetworks: [id])
    }

    /// The container's `inspect` entry as JSON objects.
    func inspect(_ name: String) throws -> [String: [String: Any]] {
        let result = try swiftlet("inspect", name)
        try #require(result.status == 0, "\(result.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        return try #require(list.first as? [String: [String: Any]])
    }
}

/// A TCP listener on every host address, on a port of its own, that takes one
/// connection: reads one line, answers, closes.
final class HostListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw SwiftletError.last("listen on a host port") }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// Waits (up to `seconds`) for the connection, reads until a newline, sends `reply`
    /// and closes; the peer's address and what it sent.
    func exchange(replying reply: String, within seconds: Double) throws -> (peer: String, received: String) {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        try #require(poll(&poller, 1, Int32(seconds * 1000)) == 1, "no connection within \(seconds) s")
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let connection = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
        }
        try #require(connection >= 0)
        defer { close(connection) }
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while received.last != UInt8(ascii: "\n"), read(connection, &byte, 1) == 1 { received.append(byte) }
        _ = reply.withCString { write(connection, $0, strlen($0)) }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &peer.sin_addr, &text, socklen_t(text.count))
        let address = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return (String(decoding: address, as: UTF8.self), String(decoding: received, as: UTF8.self))
    }
}
