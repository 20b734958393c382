import Foundation
import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--network bridge|none` under every available isolation: the host reaches the
/// container's address from `inspect` over TCP through the bridge swiftlet0, the host
/// end and the address go away with the container, and `none` leaves only loopback.
@Suite struct NetworkTests {
    @Test(arguments: TestIsolation.available)
    func hostReachesContainerOverTheBridge(isolation: Isolation) throws {
        let name = Swiftlet.name("net")
        defer { _ = try? swiftlet("rm", "-f", name) }
        // The container answers one connection with "pong" and logs what it received.
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "echo pong | nc -l -p 7000")
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

        let reply = try exchange(address: address, port: 7000, sending: "ping\n", within: 60)
        #expect(reply == "pong\n")
        #expect(try swiftlet("wait", name).stdout.trimmed == "0")
        #expect(try swiftlet("logs", name).stdout == "ping\n")
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
        let result = try swiftlet("create", "--network", "host", Swiftlet.busybox)
        #expect(result.status == 125)
        #expect(result.stderr.contains("network host not found: use bridge or none"))
    }

    /// The container's `inspect` entry as JSON objects.
    func inspect(_ name: String) throws -> [String: [String: Any]] {
        let result = try swiftlet("inspect", name)
        try #require(result.status == 0, "\(result.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        return try #require(list.first as? [String: [String: Any]])
    }

    /// Connects to `address:port` (retrying while the container starts to listen), sends
    /// `text`, closes the write side and returns everything read back.
    func exchange(address: String, port: UInt16, sending text: String, within seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_port = port.bigEndian
        try #require(inet_pton(AF_INET, address, &peer.sin_addr) == 1)
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            defer { close(fd) }
            let connected = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected < 0 {
                let error = errno
                try #require(Date() < deadline, "cannot connect to \(address):\(port): \(String(cString: strerror(error)))")
                usleep(100_000)
                continue
            }
            _ = text.withCString { write(fd, $0, strlen($0)) }
            shutdown(fd, Int32(SHUT_WR))
            var reply: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 512)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 { break }
                reply += buffer[0..<count]
            }
            return String(decoding: reply, as: UTF8.self)
        }
    }
}
