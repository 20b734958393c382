import ChildProcess
import Foundation
import HostSystem
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `docker run -p` through `swiftletd` with the stock docker client: the page of busybox
/// httpd at 127.0.0.1:PORT, `docker port`, the Ports column of `docker ps`,
/// NetworkSettings.Ports and HostConfig.PortBindings in `docker inspect`, an ephemeral port
/// on 127.0.0.1 only, a second container on a taken port refused, no rule left after `rm -f`.
@Suite(.serialized) struct PublishedPortDaemonTests {
    @Test func publishedPortsThroughTheDaemon() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let port = try Self.freePort()
        let script = "mkdir -p /www && echo hello-through-docker > /www/index.html && httpd -p 80 -h /www && echo ready && exec sleep 1000"
        let run = try daemon.docker("run", "-d", "--name", "dc-web", "-p", "\(port):80", "-p", "127.0.0.1::81",
                                    "swiftlet-test/busybox", "sh", "-c", script)
        try #require(run.status == 0, "\(run.stderr)")
        defer { _ = try? daemon.docker("rm", "-f", "dc-web") }
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let logs = try ChildProcess(["docker", "-H", "unix://\(daemon.socket)", "logs", "-f", "dc-web"])
        defer { _ = logs.waitKilling(after: 0) }
        try #require(logs.waitForOutput("ready\n", timeout: 120))

        // busybox nc: the host's busybox-static wget crashes in glibc's NSS.
        let fetch = try ChildProcess.run(["busybox", "nc", "-w", "20", "127.0.0.1", "\(port)"],
                                         stdin: .bytes(Array("GET / HTTP/1.0\r\n\r\n".utf8)))
        #expect(fetch.status == 0 && fetch.stdout.hasSuffix("\r\n\r\nhello-through-docker\n"), "\(fetch.stdout) \(fetch.stderr)")
        let listing = try daemon.docker("port", "dc-web")
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(listing.stdout) \(listing.stderr)")
        #expect(lines.first == "80/tcp -> 0.0.0.0:\(port)")
        let ephemeral = try #require(lines.last.flatMap { $0.hasPrefix("81/tcp -> 127.0.0.1:") ? $0.split(separator: ":").last : nil },
                                     "\(listing.stdout)")
        #expect(try daemon.docker("port", "dc-web", "80").stdout == "0.0.0.0:\(port)\n")
        let ps = try daemon.docker("ps", "--format", "{{.Ports}}", "--filter", "name=dc-web")
        #expect(ps.stdout.contains("0.0.0.0:\(port)->80/tcp") && ps.stdout.contains("127.0.0.1:\(ephemeral)->81/tcp"), "\(ps.stdout)")
        let ports = try daemon.docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", "dc-web").stdout
        let decoded = try JSONSerialization.jsonObject(with: Data(ports.utf8)) as? [String: [[String: String]]]
        #expect(decoded?["80/tcp"] == [["HostIp": "0.0.0.0", "HostPort": "\(port)"]], "\(ports)")
        #expect(decoded?["81/tcp"] == [["HostIp": "127.0.0.1", "HostPort": "\(ephemeral)"]], "\(ports)")
        let requested = try daemon.docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", "dc-web").stdout
        #expect(requested.contains("{\"HostIp\":\"\",\"HostPort\":\"\(port)\"}"), "\(requested)")

        let busy = try daemon.docker("run", "-d", "--name", "dc-busy", "-p", "\(port):80", "swiftlet-test/busybox", "sleep", "100")
        defer { _ = try? daemon.docker("rm", "-f", "dc-busy") }
        #expect(busy.status != 0)
        #expect(busy.stderr.contains("port is already allocated"), "\(busy.stderr)")

        #expect(try daemon.docker("rm", "-f", "dc-web").status == 0)
        let rules = try ChildProcess.run(["iptables-save"]).stdout
        #expect(!rules.contains("swiftlet:\(id.prefix(12))"), "\(rules)")
    }

    /// A TCP port free on the host now.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SwiftletError("socket", errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard named else { throw SwiftletError("bind", errno: errno) }
        return UInt16(bigEndian: address.sin_port)
    }
}
