import HostSystem
import Testing
@testable import Runtime

/// `-p` specs (Docker's `[IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`), `-P`'s bindings, the
/// Engine API's PortBindings, the inspect map and a container's resolv.conf.
@Suite struct PortMappingTests {
    @Test func parsesEveryForm() throws {
        #expect(try PortBinding.parse("80") == [PortBinding(containerPort: 80)])
        #expect(try PortBinding.parse("8080:80") == [PortBinding(hostPort: 8080, containerPort: 80)])
        #expect(try PortBinding.parse("53:53/udp") == [PortBinding(hostPort: 53, containerPort: 53, proto: .udp)])
        #expect(try PortBinding.parse("127.0.0.1:8080:80/tcp")
            == [PortBinding(hostIP: IPv4Address("127.0.0.1"), hostPort: 8080, containerPort: 80)])
        #expect(try PortBinding.parse("127.0.0.1::80") == [PortBinding(hostIP: IPv4Address("127.0.0.1"), containerPort: 80)])
        #expect(try PortBinding.parse("0.0.0.0:8080:80") == [PortBinding(hostPort: 8080, containerPort: 80)])
        #expect(try PortBinding.parse("8000-8002:80-82").map { "\($0.hostPort!)->\($0.portKey)" }
            == ["8000->80/tcp", "8001->81/tcp", "8002->82/tcp"])
        #expect(try PortBinding.parse("80-81/udp").map(\.portKey) == ["80/udp", "81/udp"])
    }

    @Test(arguments: ["", "abc", "0", "65536", "80/sctp", "8080:", "1.2.3:80:80", "::1:80:80", "8000-8001:80",
                      "82-80", "a:b:c:d", "8080:80/"])
    func rejectsBadSpecs(spec: String) {
        #expect {
            try PortBinding.parse(spec)
        } throws: { error in
            (error as? SwiftletError)?.code == .invalidArgument && "\(error)".contains("invalid port specification '\(spec)'")
        }
    }

    @Test func publishAllAddsTheImagesExposedPorts() throws {
        var options = CreateOptions(image: "x")
        options.ports = try PortBinding.parse("8080:80")
        options.publishAll = true
        let bindings = try #require(try PortBinding.bindings(options, exposed: ["443/tcp", "80/tcp", "53/udp"]))
        #expect(bindings.map(\.portKey) == ["80/tcp", "53/udp", "443/tcp"])
        #expect(bindings[0].hostPort == 8080)
        #expect(bindings.dropFirst().allSatisfy { $0.hostPort == nil && $0.hostIP == nil })
        options.publishAll = false
        options.ports = []
        #expect(try PortBinding.bindings(options, exposed: ["80/tcp"]) == nil)
        options.ports = try PortBinding.parse("80")
        options.network = .none
        #expect(throws: SwiftletError.self) { try PortBinding.bindings(options, exposed: []) }
    }

    @Test func engineBindingsAreParsedAsSpecs() throws {
        let bindings = try PortBinding.parse(engineBindings: [
            "80/tcp": [.init(HostIp: "", HostPort: "8080"), .init(HostIp: "127.0.0.1", HostPort: "")],
            "53/udp": nil,
        ])
        #expect(bindings == [PortBinding(hostPort: 8080, containerPort: 80),
                             PortBinding(hostIP: IPv4Address("127.0.0.1"), containerPort: 80)])
        #expect(throws: SwiftletError.self) { try PortBinding.parse(engineBindings: ["80/tcp": [.init(HostIp: nil, HostPort: "x")]]) }
    }

    @Test func portMapHasDockersShape() {
        let configured = [PortBinding(hostPort: 8080, containerPort: 80), PortBinding(containerPort: 53, proto: .udp)]
        let published = [PublishedPort(hostIP: nil, hostPort: 8080, containerPort: 80, proto: .tcp)]
        let map = PortMap.ports(configured: configured, published: published)
        #expect(map.count == 2)
        #expect(map["80/tcp"] == .some([PortMap.HostBinding(HostIp: "0.0.0.0", HostPort: "8080")]))
        #expect(map["53/udp"] == .some(nil))
        #expect(PortMap.requested(configured)["53/udp"] == [PortMap.HostBinding(HostIp: "", HostPort: "")])
    }

    @Test func resolvConfSkipsLoopbackResolvers() {
        #expect(ResolvConf.forContainer(host: "# x\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n")
            == "nameserver 10.0.0.2\nsearch example.org\noptions edns0\n")
        #expect(ResolvConf.forContainer(host: "nameserver 127.0.0.53\n") == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n")
        #expect(ResolvConf.forContainer(host: "") == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n")
        #expect(ResolvConf.forContainer(host: "nameserver 10.0.0.2\nsearch example.org\n", resolver: IPv4Address("10.89.0.1"))
                == "nameserver 10.89.0.1\nsearch example.org\noptions ndots:0\n")
    }
}
