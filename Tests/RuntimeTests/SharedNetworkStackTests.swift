import Foundation
import HostSystem
import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--network host` and `--network container:NAME` with namespace containers: the host's
/// loopback and hostname, another container's stack (its loopback, hostname and
/// interfaces), and the combinations Docker refuses.
@Suite struct SharedNetworkStackTests {
    @Test func hostNetworkIsTheHostsStack() throws {
        let listener = try HostListener()
        let name = Swiftlet.name("hostnet")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", "namespace", "--network", "host", Swiftlet.busybox,
                               "sh", "-c", "echo ping | nc 127.0.0.1 \(listener.port); cat /etc/hostname")
        try #require(run.status == 0, "\(run.stderr)")
        let (peer, received) = try listener.exchange(replying: "pong\n", within: 60)
        #expect(peer == "127.0.0.1", "only the host's stack reaches the host's loopback")
        #expect(received == "ping\n")
        #expect(try swiftlet("wait", name).stdout.trimmed == "0")
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        let hostname = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(try swiftlet("logs", name).stdout == "pong\n\(hostname)\n")
        let inspect = try swiftlet("inspect", name).stdout
        #expect(inspect.contains("\"network\" : \"host\""), "\(inspect)")
    }

    @Test func containerNetworkSharesAnotherContainersStack() throws {
        let (server, client) = (Swiftlet.name("stack"), Swiftlet.name("sidecar"))
        defer { _ = try? swiftlet("rm", "-f", client, server) }
        let script = "mkdir -p /www && echo hello-\(server) > /www/index.html && httpd -p 127.0.0.1:80 -h /www && exec sleep 1000"
        let started = try swiftlet("run", "-d", "--name", server, "--isolation", "namespace", Swiftlet.busybox, "sh", "-c", script)
        try #require(started.status == 0, "\(started.stderr)")
        let fetch = "for i in $(seq 50); do wget -qO- http://127.0.0.1/ && break; sleep 0.2; done; cat /etc/hostname; ls /sys/class/net"
        let sidecar = try swiftlet("run", "--name", client, "--isolation", "namespace", "--network", "container:\(server)",
                                   Swiftlet.busybox, "sh", "-c", fetch)
        #expect(sidecar.status == 0, "\(sidecar.stderr)")
        let id = try containerID(server)
        #expect(sidecar.stdout == "hello-\(server)\n\(id.prefix(12))\neth0\nlo\n", "\(sidecar.stdout)")
        let inspect = try swiftlet("inspect", client).stdout
        #expect(inspect.contains("\"network\" : \"container:\(id)\""), "\(inspect)")

        // Started again once the other container is gone: a clear error.
        #expect(try swiftlet("rm", "-f", server).status == 0)
        let again = try swiftlet("start", client)
        #expect(again.status != 0)
        #expect(again.stderr.contains("cannot join the network of container \(id): it no longer exists"), "\(again.stderr)")
    }

    @Test func sharedStacksRefuseWhatDockerRefuses() throws {
        let stopped = Swiftlet.name("stopped")
        defer { _ = try? swiftlet("rm", "-f", stopped) }
        #expect(try swiftlet("create", "--name", stopped, "--isolation", "namespace", Swiftlet.busybox, "true").status == 0)
        let cases: [([String], String)] = [
            (["--network", "host", "-p", "8080:80"], "conflicting options: port publishing and the container type network mode"),
            (["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "sysctl net.ipv4.ip_forward is not allowed with --network host"),
            (["--network", "host", "--network-alias", "x"], "network-scoped alias is supported only for containers in user defined networks"),
            (["--network", "container:no-such-container"], "No such container: no-such-container"),
            (["--network", "container:\(stopped)", "--hostname", "h"], "conflicting options: hostname and the network mode"),
            (["--network", "container:\(stopped)"], "cannot join network of a non running container: \(stopped)"),
            (["--network", "container:"], "invalid --network container:"),
        ]
        for (flags, message) in cases {
            let result = try swiftlet(["run", "--rm", "--isolation", "namespace"] + flags + [Swiftlet.busybox, "true"])
            #expect(result.status != 0, "\(flags)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
