import ChildProcess
import Foundation
import HostSystem
import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// User-defined networks with namespace containers (the packet path is the host's, as
/// for a microVM's TAP): names and aliases answered by the embedded DNS server on the
/// network, nothing reaching across networks, `network connect`/`disconnect` of a running
/// container, and nothing left after the containers and networks go.
@Suite struct UserNetworkTests {
    @Test func containersFindEachOtherByNameOnlyOnTheirNetwork() throws {
        let (a, b) = (Swiftlet.name("neta"), Swiftlet.name("netb"))
        let (web, other) = (Swiftlet.name("web"), Swiftlet.name("other"))
        defer {
            _ = try? swiftlet("rm", "-f", web, other)
            _ = try? swiftlet("network", "rm", a, b)
        }
        let idA = try createNetwork(a), idB = try createNetwork(b)
        let script = "mkdir -p /www && echo hello-\(web) > /www/index.html && httpd -p 80 -h /www && exec sleep 1000"
        let started = try swiftlet("run", "-d", "--name", web, "--isolation", "namespace", "--network", a,
                                   "--network-alias", "\(web)-alias", Swiftlet.busybox, "sh", "-c", script)
        try #require(started.status == 0, "\(started.stderr)")
        let address = try #require(try containerAddress(web, on: a))

        // By name and by alias, through glibc's resolver (Debian's getent and bash's /dev/tcp).
        let fetch = "getent hosts \(web) \(web)-alias; for i in $(seq 50); do exec 3<>/dev/tcp/\(web)-alias/80 && break; sleep 0.2; done; "
            + "printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; tail -n 1 <&3"
        let sameNetwork = try swiftlet("run", "--rm", "--isolation", "namespace", "--network", a, Swiftlet.debian, "bash", "-c", fetch)
        #expect(sameNetwork.status == 0, "\(sameNetwork.stderr)")
        let lines = sameNetwork.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines == ["\(address) \(web)", "\(address) \(web)-alias", "hello-\(web)"], "\(sameNetwork.stdout)")

        // From network b: not even the address is reachable, until `network connect`.
        let run = try swiftlet("run", "-d", "--name", other, "--isolation", "namespace", "--network", b, Swiftlet.busybox, "sleep", "1000")
        try #require(run.status == 0, "\(run.stderr)")
        let blocked = try swiftlet("exec", other, "timeout", "5", "wget", "-qO-", "http://\(address)/")
        #expect(blocked.status != 0, "network \(b) reached \(a): \(blocked.stdout)")
        #expect(try swiftlet("network", "connect", "--alias", "\(other)-on-a", a, other).status == 0)
        let lookup = try swiftlet("exec", other, "nslookup", web)
        #expect(lookup.stdout.contains("Address: \(address)"), "\(lookup.stdout)\(lookup.stderr)")
        let reached = try swiftlet("exec", other, "wget", "-qO-", "http://\(address)/")
        #expect(reached.stdout == "hello-\(web)\n", "\(reached.stderr)")
        let inspect = try networkInspect(a)
        let members = (inspect["Containers"] as? [String: [String: Any]])?.values.compactMap { $0["Name"] as? String } ?? []
        #expect(Set(members) == [web, other])
        let interfaces = try swiftlet("exec", other, "ls", "/sys/class/net").stdout.split(separator: "\n")
        #expect(interfaces.sorted() == ["eth0", "eth1", "lo"])

        #expect(try swiftlet("network", "disconnect", a, other).status == 0)
        #expect(try swiftlet("exec", other, "ls", "/sys/class/net").stdout.split(separator: "\n").sorted() == ["eth0", "lo"])
        #expect(try swiftlet("exec", other, "timeout", "5", "wget", "-qO-", "http://\(address)/").status != 0)

        let busy = try swiftlet("network", "rm", a)
        #expect(busy.status != 0 && busy.stderr.contains("has active endpoints"), "\(busy.stderr)")
        #expect(try swiftlet("rm", "-f", web, other).status == 0)
        #expect(try swiftlet("network", "rm", a, b).stdout == "\(a)\n\(b)\n")
        try expectNoLeftovers(ofNetworks: [idA, idB])
    }

    @Test func badNetworkRequestsAreClearErrors() throws {
        let name = Swiftlet.name("netx")
        defer { _ = try? swiftlet("network", "rm", name) }
        let id = try createNetwork(name)
        let subnet = try #require((networkInspect(name)["IPAM"] as? [String: Any]).flatMap { ($0["Config"] as? [[String: String]])?.first?["Subnet"] })
        let cases: [([String], String)] = [
            (["network", "create", name], "network with name \(name) already exists"),
            (["network", "create", "--subnet", subnet, Swiftlet.name("nety")], "Pool overlaps with other one on this address space"),
            (["network", "create", "--subnet", "10.89.250.0/24", "--gateway", "10.89.251.1", Swiftlet.name("nety")], "no matching subnet for gateway"),
            (["network", "create", "--subnet", "10.89.250.1/24", Swiftlet.name("nety")], "invalid subnet 10.89.250.1/24"),
            (["network", "rm", "bridge"], "bridge is a pre-defined network and cannot be removed"),
            (["network", "inspect", "missing-network"], "network missing-network not found"),
            (["run", "--rm", "--isolation", "namespace", "--network", "missing-network", Swiftlet.busybox, "true"], "network missing-network not found"),
            (["run", "--rm", "--isolation", "namespace", "--network-alias", "x", Swiftlet.busybox, "true"], "network-scoped alias is supported only for containers in user defined networks"),
        ]
        for (arguments, message) in cases {
            let result = try swiftlet(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(try swiftlet("network", "rm", name).status == 0)
        try expectNoLeftovers(ofNetworks: [id])
    }
}

/// Creates network `name`; its id.
func createNetwork(_ name: String, _ options: String...) throws -> String {
    let created = try swiftlet(["network", "create"] + options + [name])
    try #require(created.status == 0, "\(created.stderr)")
    return created.stdout.trimmed
}

/// `network inspect NAME`'s one object.
func networkInspect(_ name: String) throws -> [String: Any] {
    let output = try swiftlet("network", "inspect", name)
    try #require(output.status == 0, "\(output.stderr)")
    return try #require((try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]])?.first)
}

/// Container `name`'s address on network `network` (from the network's inspect).
func containerAddress(_ name: String, on network: String) throws -> String? {
    let containers = try networkInspect(network)["Containers"] as? [String: [String: Any]] ?? [:]
    let endpoint = containers.values.first { $0["Name"] as? String == name }
    return (endpoint?["IPv4Address"] as? String)?.split(separator: "/").first.map(String.init)
}

/// No bridge, rule, address table or DNS record of the networks with these ids.
func expectNoLeftovers(ofNetworks ids: [String]) throws {
    let rules = try ChildProcess.run(["iptables-save"]).stdout
    for id in ids {
        let bridge = "swbr-" + id.prefix(10)
        #expect(access("/sys/class/net/\(bridge)", F_OK) != 0, "\(bridge) outlived its network")
        #expect(!rules.contains(bridge), "\(rules)")
        #expect(access("\(BridgeNetwork.defaultTableDirectory)/\(bridge).json", F_OK) != 0)
        #expect(access("\(BridgeNetwork.defaultTableDirectory)/dns/\(id).json", F_OK) != 0)
    }
}

/// `swiftlet ARGS…` with the arguments in an array.
func swiftlet(_ arguments: [String]) throws -> CommandResult {
    try Swiftlet.execute([Swiftlet.executable] + arguments, root: try Swiftlet.root.get())
}
