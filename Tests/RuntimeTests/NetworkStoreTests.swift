import Foundation
import HostSystem
@testable import Runtime
import Testing

/// The pieces of user-defined networks that need no bridge: subnets that overlap, the
/// pool's next free subnet, the host's routes as /proc/net/route lists them, the network
/// mode's stored form, the isolation rules of a network, and a container's networks.
@Suite struct NetworkStoreTests {
    @Test func subnetsOverlapWhenTheyShareAnAddress() throws {
        let wide = try #require(IPv4Subnet("10.89.0.0/16"))
        #expect(wide.overlaps(try #require(IPv4Subnet("10.89.7.0/24"))))
        #expect(try #require(IPv4Subnet("10.89.7.0/24")).overlaps(wide))
        #expect(!wide.overlaps(try #require(IPv4Subnet("10.88.0.0/16"))))
        #expect(!(try #require(IPv4Subnet("10.89.7.0/25"))).overlaps(try #require(IPv4Subnet("10.89.7.128/25"))))
    }

    @Test func freeSubnetSkipsWhatIsTaken() throws {
        let taken = ["10.89.0.0/24", "10.89.1.0/24", "10.89.3.0/25"].compactMap(IPv4Subnet.init)
        #expect(try NetworkStore.freeSubnet(avoiding: taken).description == "10.89.2.0/24")
        let all = try #require(IPv4Subnet("10.89.0.0/16"))
        #expect(throws: SwiftletError.self) { try NetworkStore.freeSubnet(avoiding: [all]) }
    }

    @Test func hostRoutesAreReadFromTheRoutingTable() throws {
        let table = NSTemporaryDirectory() + "route-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: table) }
        try """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
        eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
        swiftlet0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0

        """.write(toFile: table, atomically: true, encoding: .utf8)
        #expect(HostRoutes.subnets(table: table).map(\.description) == ["192.168.2.0/24", "10.88.0.0/16"])
    }

    @Test func networkModeIsStoredAsDockersString() throws {
        for (text, mode) in [("bridge", NetworkMode.bridge), ("default", .bridge), ("", .bridge), ("none", .none), ("backend", .named("backend"))] {
            #expect(NetworkMode(text) == mode)
        }
        let encoded = try JSONEncoder().encode([NetworkMode.named("backend"), .none])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["backend","none"]"#)
        #expect(try JSONDecoder().decode([NetworkMode].self, from: Data(#"["bridge","x"]"#.utf8)) == [.bridge, .named("x")])
    }

    @Test func internalNetworksDropWhatCrossesTheirBridgeAndHaveNoNAT() throws {
        let subnet = try #require(IPv4Subnet("10.89.5.0/24"))
        let rules = PacketFilter.bridgeRules(bridge: "swbr-x", subnet: subnet, internal: true)
        #expect(rules.allSatisfy { $0.table == "filter" }, "no NAT rule for an internal network")
        #expect(rules.contains { $0.rule == ["-i", "swbr-x", "!", "-o", "swbr-x", "-j", "DROP"] })
        #expect(rules.contains { $0.rule == ["!", "-i", "swbr-x", "-o", "swbr-x", "-j", "DROP"] })
        let open = PacketFilter.bridgeRules(bridge: "swbr-y", subnet: subnet, internal: false)
        #expect(open[0].rule == ["-i", "swbr-y", "!", "-o", "swbr-y", "-j", PacketFilter.otherBridgesChain])
        #expect(open.contains { $0.table == "nat" && $0.rule.contains("MASQUERADE") })
    }

    @Test func interfacesAreNumberedAndHostEndsFitIFNAMSIZ() {
        let id = "0123456789abcdef0123"
        #expect(NetworkAttachment.hostInterface(of: id) == "sl0123456789ab")
        #expect(NetworkAttachment.hostInterface(of: id, index: 3) == "sl0123456789-3")
        #expect(NetworkAttachment.hostInterface(of: id, index: 12).utf8.count < 16)
        // Another interface of a container never takes its first one's name (an id whose
        // 12th digit is the index once did, and `connect` deleted eth0's veth pair).
        let unlucky = "0123456789a1ff"
        #expect(NetworkAttachment.hostInterface(of: unlucky, index: 1) != NetworkAttachment.hostInterface(of: unlucky))
    }

    @Test func aStoreResolvesNamesIdsAndPrefixes() throws {
        let root = NSTemporaryDirectory() + "networks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try NetworkStore(root: root)
        #expect(try store.resolve("bridge").id == NetworkDefinition.bridgeID)
        #expect(try store.resolve(String(NetworkDefinition.noneID.prefix(6))).name == "none")
        let error = #expect(throws: SwiftletError.self) { try store.resolve("missing") }
        #expect(error?.description == "network missing not found")
        #expect(error?.code == .notFound)
    }
}
