import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A container's network (`--network`, Docker's NetworkMode subset): `bridge` (Docker's
/// default) connects it to the host bridge `swiftlet0` with an address of its own;
/// `none` leaves it only loopback.
public enum NetworkMode: String, Codable, CaseIterable, Sendable {
    case bridge
    case none
}

/// An IPv4 address (host byte order inside), parsed from and printed as dotted quad.
public struct IPv4Address: Codable, Hashable, Comparable, CustomStringConvertible, Sendable {
    public let value: UInt32

    public init(_ value: UInt32) {
        self.value = value
    }

    /// Parses `a.b.c.d` (each 0…255, decimal); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        self.value = value
    }

    /// The address in network byte order, as `struct in_addr` holds it.
    public var networkOrder: UInt32 { value.bigEndian }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 subnet `address/prefix` (RFC 4632 notation), the network address aligned.
public struct IPv4Subnet: Equatable, CustomStringConvertible, Sendable {
    public let network: IPv4Address
    public let prefix: Int

    /// Parses `a.b.c.d/n` with 0 < n <= 30 (room for a gateway and a host); host bits
    /// must be zero.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let prefix = Int(parts[1]),
              (1...30).contains(prefix) else { return nil }
        let mask = UInt32.max << UInt32(32 - prefix)
        guard address.value & ~mask == 0 else { return nil }
        network = address
        self.prefix = prefix
    }

    var mask: UInt32 { UInt32.max << UInt32(32 - prefix) }
    /// The first host address: the bridge's (the containers' gateway).
    public var gateway: IPv4Address { IPv4Address(network.value + 1) }
    /// The addresses containers get: after the gateway, before the broadcast address.
    public var containerAddresses: ClosedRange<UInt32> { (network.value + 2)...(network.value | ~mask) - 1 }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    public var description: String { "\(network)/\(prefix)" }
}

/// A running container's place on the bridge, recorded in its state (what `inspect`
/// shows as NetworkSettings): its address, the gateway, the prefix length, the MAC of
/// its eth0 and the host-side interface (veth end or TAP) attached to the bridge.
public struct NetworkAttachment: Codable, Equatable, Sendable {
    public var bridge: String
    public var address: IPv4Address
    public var prefix: Int
    public var gateway: IPv4Address
    public var macAddress: String
    /// The host end: a veth (namespace) or TAP (microVM) device enslaved to `bridge`.
    public var hostInterface: String
    /// The ports published to the container (nil in states written before `-p` existed).
    public var ports: [PublishedPort]?

    /// The attachment of container `id` at `address` on `network`: the MAC is
    /// 02:42 followed by the four address bytes (Docker's scheme: locally administered,
    /// unique while the address is), the host interface `hostInterface(of:)`.
    init(id: String, address: IPv4Address, network: BridgeNetwork) {
        bridge = network.bridge
        self.address = address
        prefix = network.subnet.prefix
        gateway = network.subnet.gateway
        let bytes = [0x02, 0x42] + [24, 16, 8, 0].map { Int(address.value >> UInt32($0) & 0xff) }
        macAddress = bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        hostInterface = Self.hostInterface(of: id)
    }

    /// The host end's name for container `id`: `sl` + the id's first 12 hex digits
    /// (IFNAMSIZ allows 15 characters).
    static func hostInterface(of id: String) -> String { "sl" + id.prefix(12) }

    /// The container's interface inside: eth0, as in Docker.
    public static let containerInterface = "eth0"
}

/// The host side of `--network bridge`: the Linux bridge `swiftlet0` with address
/// 10.88.0.1/16 (the containers' gateway; created on first use), the address allocator,
/// the host ends of containers' links, outbound NAT and published ports (`PacketFilter`,
/// `PortReservations`).
///
/// The allocator's table lives with the bridge, not in a state root: the bridge is one per
/// host, and containers of different state roots (the tests use one each, at once) share
/// it, so one table must serve them all. It is in `/run/swiftlet/network` (tmpfs), which,
/// like the bridge and every running container, does not survive a reboot.
public struct BridgeNetwork: Sendable {
    public static let defaultBridge = "swiftlet0"
    public static let defaultSubnet = IPv4Subnet("10.88.0.0/16")!
    public static let defaultTableDirectory = "/run/swiftlet/network"

    public let bridge: String
    public let subnet: IPv4Subnet
    let allocator: AddressAllocator

    public init(bridge: String = defaultBridge, subnet: IPv4Subnet = defaultSubnet,
                tableDirectory: String = defaultTableDirectory) {
        self.bridge = bridge
        self.subnet = subnet
        allocator = AddressAllocator(directory: tableDirectory, name: bridge, subnet: subnet)
    }

    /// For a `bridge` container: makes sure the bridge is up and reserves an address.
    /// Nil for `none` (and for containers created before `--network` existed).
    func connect(_ config: ContainerConfig) throws -> NetworkAttachment? {
        guard config.network == .bridge else { return nil }
        try HostLinks.ensureBridge(bridge, address: subnet.gateway, prefix: subnet.prefix)
        do {
            try PacketFilter.ensureBridgeRules(bridge: bridge, subnet: subnet)
        } catch {
            // As dockerd without forwarding: a warning, the host still reachable; but
            // ports cannot be published without the rules.
            if config.ports?.isEmpty == false { throw error }
            FileHandle.standardError.write(Data("WARNING: containers on \(bridge) cannot reach other networks: \(error)\n".utf8))
        }
        let address = try allocator.allocate(for: config.id)
        var attachment = NetworkAttachment(id: config.id, address: address, network: self)
        if let bindings = config.ports, !bindings.isEmpty {
            let ports = try PortReservations.reserve(bindings, for: config.id)
            attachment.ports = ports
            PacketFilter.unpublish(containerID: config.id)  // a dead monitor's leftovers
            try PacketFilter.publish(ports, to: address, containerID: config.id)
        }
        return attachment
    }

    /// Removes the container's published ports, its host link (if still there) and frees
    /// its address; safe to call more than once and for containers that never connected.
    func disconnect(_ config: ContainerConfig) {
        guard config.network == .bridge else { return }
        if let bindings = config.ports, !bindings.isEmpty {
            PacketFilter.unpublish(containerID: config.id)
            PortReservations.release(config.id)
        }
        HostLinks.delete(NetworkAttachment.hostInterface(of: config.id))
        try? allocator.release(config.id)
    }
}
