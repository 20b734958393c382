import ChildProcess
import Foundation
import HostSystem
import Testing

/// `docker network …` and `docker run --network NAME --network-alias` through `swiftletd`
/// with the stock docker client: create (with a subnet and a label), ls, inspect (the
/// network's Containers and the container's NetworkSettings.Networks), names answered on
/// the network, connect and disconnect of a running container, rm refused while in use,
/// prune.
@Suite struct NetworkDaemonTests {
    @Test func networksThroughTheDaemon() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (front, back) = ("front-\(tag)", "back-\(tag)")
        defer {
            _ = try? daemon.docker("rm", "-f", "dn-web", "dn-other")
            _ = try? daemon.docker("network", "rm", front, back)
        }
        let created = try daemon.docker("network", "create", "--label", "tier=front", front)
        try #require(created.status == 0, "\(created.stderr)")
        let frontID = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(frontID.count == 64)
        #expect(try daemon.docker("network", "create", back).status == 0)
        let listing = try daemon.docker("network", "ls", "--format", "{{.Name}} {{.Driver}}", "--filter", "label=tier=front")
        #expect(listing.stdout == "\(front) bridge\n", "\(listing.stdout) \(listing.stderr)")
        let names = try daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.split(separator: "\n").map(String.init)
        #expect(Set(["bridge", "none", front, back]).isSubset(of: Set(names)), "\(names)")

        let run = try daemon.docker("run", "-d", "--name", "dn-web", "--network", front, "--network-alias", "www",
                                    "swiftlet-test/busybox", "sleep", "1000")
        try #require(run.status == 0, "\(run.stderr)")
        let address = try daemon.docker("inspect", "--format", "{{(index .NetworkSettings.Networks \"\(front)\").IPAddress}}", "dn-web")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(address.hasPrefix("10.89."), "\(address)")
        let members = try daemon.docker("network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", front)
        #expect(members.stdout.hasPrefix("dn-web \(address)/"), "\(members.stdout) \(members.stderr)")
        let lookup = try daemon.docker("run", "--rm", "--network", front, "swiftlet-test/busybox", "nslookup", "www")
        #expect(lookup.stdout.contains("Address: \(address)"), "\(lookup.stdout) \(lookup.stderr)")

        #expect(try daemon.docker("run", "-d", "--name", "dn-other", "--network", back, "swiftlet-test/busybox", "sleep", "1000").status == 0)
        let connect = try daemon.docker("network", "connect", "--alias", "other-front", front, "dn-other")
        #expect(connect.status == 0, "\(connect.stderr)")
        let found = try daemon.docker("exec", "dn-other", "nslookup", "dn-web")
        #expect(found.stdout.contains("Address: \(address)"), "\(found.stdout) \(found.stderr)")
        let networks = try daemon.docker("inspect", "--format", "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}", "dn-other")
        #expect(Set(networks.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty })
                == [front, back], "\(networks.stdout)")
        let busy = try daemon.docker("network", "rm", front)
        #expect(busy.status != 0 && busy.stderr.contains("has active endpoints"), "\(busy.stderr)")
        #expect(try daemon.docker("network", "disconnect", front, "dn-other").status == 0)
        let unknown = try daemon.docker("network", "inspect", "no-such-network-\(tag)")
        #expect(unknown.status != 0 && unknown.stderr.contains("not found"), "\(unknown.stderr)")

        #expect(try daemon.docker("rm", "-f", "dn-web", "dn-other").status == 0)
        let pruned = try daemon.docker("network", "prune", "-f")
        #expect(pruned.stdout.contains(front) && pruned.stdout.contains(back), "\(pruned.stdout) \(pruned.stderr)")
        #expect(!(try daemon.docker("network", "ls", "--format", "{{.Name}}").stdout.contains(front)))
        #expect(access("/sys/class/net/swbr-\(frontID.prefix(10))", F_OK) != 0, "the bridge outlived its network")
    }
}
