import HostSystem
import Foundation
@testable import Runtime
import Synchronization
import Testing

/// Addresses, subnets and the file-locked address allocator of the bridge network.
@Suite struct NetworkAllocatorTests {
    let directory = NSTemporaryDirectory() + "swiftlet-ipam-\(UUID().uuidString)"

    func allocator(_ subnet: String = "10.88.0.0/16") -> AddressAllocator {
        AddressAllocator(directory: directory, name: "br-test", subnet: IPv4Subnet(subnet)!)
    }

    @Test func addressesParseAndPrint() {
        #expect(IPv4Address("10.88.0.2")?.value == 0x0A58_0002)
        #expect(IPv4Address(0xC0A8_01FE).description == "192.168.1.254")
        #expect(IPv4Address("10.88.0.2")?.networkOrder == UInt32(0x0A58_0002).bigEndian)
        for bad in ["", "10.88.0", "10.88.0.256", "10.88..2", "a.b.c.d", "10.88.0.2.1", "-1.0.0.0", "1.2.3.0004", "١.2.3.4"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }

    @Test func subnetsGiveTheGatewayAndTheContainerRange() throws {
        let subnet = try #require(IPv4Subnet("10.88.0.0/16"))
        #expect(subnet.gateway.description == "10.88.0.1")
        #expect(IPv4Address(subnet.hostAddresses.lowerBound).description == "10.88.0.1")
        #expect(IPv4Address(subnet.hostAddresses.upperBound).description == "10.88.255.254")
        #expect(subnet.contains(IPv4Address("10.88.200.1")!))
        #expect(!subnet.contains(IPv4Address("10.89.0.1")!))
        for bad in ["10.88.0.1/16", "10.88.0.0", "10.88.0.0/31", "10.88.0.0/0", "10.88.0.0/x"] {
            #expect(IPv4Subnet(bad) == nil, "\(bad)")
        }
    }

    @Test func attachmentDerivesMACAndHostInterface() {
        let network = BridgeNetwork(tableDirectory: directory)
        let attachment = NetworkAttachment(id: "0123456789abcdef0123", address: IPv4Address("10.88.1.7")!, network: network)
        #expect(attachment.macAddress == "02:42:0a:58:01:07")
        #expect(attachment.hostInterface == "sl0123456789ab")
        #expect(attachment.hostInterface.utf8.count < 16)
        #expect(attachment.gateway.description == "10.88.0.1")
        #expect(attachment.prefix == 16)
        #expect(attachment.bridge == "swiftlet0")
    }

    @Test func allocationIsStablePerContainerAndLowestFreeFirst() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ipam = allocator()
        #expect(try ipam.allocate(for: "a").description == "10.88.0.2")
        #expect(try ipam.allocate(for: "b").description == "10.88.0.3")
        #expect(try ipam.allocate(for: "a").description == "10.88.0.2")
        try ipam.release("a")
        try ipam.release("a")
        #expect(try ipam.allocations() == ["b": IPv4Address("10.88.0.3")!])
        #expect(try ipam.allocate(for: "c").description == "10.88.0.2")
        // Another allocator on the same table (another process) sees the same reservations.
        #expect(try allocator().allocate(for: "d").description == "10.88.0.4")
    }

    @Test func exhaustionIsAClearErrorAndReleaseMakesRoom() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ipam = allocator("192.168.7.0/29")
        let given = try (1...5).map { try ipam.allocate(for: "c\($0)").description }
        #expect(given == (2...6).map { "192.168.7.\($0)" })
        #expect {
            try ipam.allocate(for: "c6")
        } throws: { error in
            "\(error)".contains("no free address left in 192.168.7.0/29 on br-test: 5 containers hold one each")
        }
        try ipam.release("c3")
        #expect(try ipam.allocate(for: "c6").description == "192.168.7.4")
    }

    /// Many allocators (separate lock file descriptions, as separate processes have)
    /// allocating at once never hand out one address twice.
    @Test func concurrentAllocationsAreDistinct() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let count = 48
        let results = Mutex<[String: IPv4Address]>([:])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let address = try? allocator().allocate(for: "container-\(index)")
            results.withLock { $0["container-\(index)"] = address }
        }
        let addresses = results.withLock { $0 }
        #expect(addresses.count == count)
        #expect(Set(addresses.values).count == count)
        #expect(try allocator().allocations() == addresses)
    }

    @Test func aCorruptTableIsReportedNotOverwritten() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ipam = allocator()
        _ = try ipam.allocate(for: "a")
        try Data("{\"a\": \"not an address\"}".utf8).write(to: URL(fileURLWithPath: ipam.tablePath))
        #expect(throws: SwiftletError.self) { try ipam.allocate(for: "b") }
    }
}
