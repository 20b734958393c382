import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A container's network mode (`--network`, Docker's HostConfig.NetworkMode): `bridge`
/// (Docker's default) joins the host bridge `swiftlet0`; `none` leaves only loopback; a
/// user-defined network's name or id (`NetworkStore`) joins that network's bridge, where
/// the embedded DNS server answers the other containers' names; `host` keeps the host's
/// network stack and `container:ID` shares another running container's (namespace
/// containers only). Stored as Docker's string.
public enum NetworkMode: Hashable, Codable, Sendable, CustomStringConvertible {
    case bridge
    case none
    case host
    /// Another container's network namespace, by the name or id given (its id once created).
    case container(String)
    case named(String)

    /// `default` and the empty string are the bridge, as for dockerd.
    public init(_ text: String) {
        switch text {
        case "", "default", "bridge": self = .bridge
        case "none": self = .none
        case "host": self = .host
        case let text where text.hasPrefix("container:"): self = .container(String(text.dropFirst("container:".count)))
        default: self = .named(text)
        }
    }

    public var description: String {
        switch self {
        case .bridge: "bridge"
        case .none: "none"
        case .host: "host"
        case .container(let reference): "container:\(reference)"
        case .named(let name): name
        }
    }

    /// Whether the container has a network stack of its own (not the host's or another
    /// container's).
    public var hasOwnStack: Bool {
        switch self {
        case .host, .container: false
        default: true
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One network a container is on (Docker's EndpointSettings as configured): the
/// network's id and the extra names (`--network-alias`, `network connect --alias`) the
/// embedded DNS server answers for it there.
public struct NetworkEndpoint: Codable, Equatable, Sendable {
    public var networkID: String
    public var aliases: [String]?

    public init(networkID: String, aliases: [String]? = nil) {
        self.networkID = networkID
        self.aliases = aliases
    }
}

/// A running container's place on one network, recorded in its state (what `inspect`
/// shows in NetworkSettings): its address, the gateway, the prefix length, the MAC of
/// its interface and the host-side interface (veth end or TAP) attached to the bridge.
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
    /// The network's id; nil in states written before user-defined networks (the bridge).
    public var networkID: String?
    /// The interface inside the container; nil in states written before user-defined
    /// networks (eth0).
    public var interface: String?
    /// The embedded DNS server's address on this network (its gateway) on user-defined
    /// networks; nil on the default bridge, which has none (as Docker's).
    public var resolver: IPv4Address?

    /// The attachment of container `id` at `address` on `network`, as its interface
    /// number `index` (eth0, eth1, …): the MAC is 02:42 followed by the four address bytes
    /// (Docker's scheme: locally administered, unique while the address is), the host
    /// interface `hostInterface(of:index:)`.
    init(id: String, address: IPv4Address, network: BridgeNetwork, index: Int = 0) {
        bridge = network.bridge
        self.address = address
        prefix = network.subnet.prefix
        gateway = network.gateway
        let bytes = [0x02, 0x42] + [24, 16, 8, 0].map { Int(address.value >> UInt32($0) & 0xff) }
        macAddress = bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        hostInterface = Self.hostInterface(of: id, index: index)
        networkID = network.id
        interface = "eth\(index)"
    }

    /// The host end's name for container `id`'s interface `index`: `sl` + the id's first
    /// 12 hex digits for the first; for the others the first 10, a dash and the index,
    /// which no first interface's name can equal (IFNAMSIZ allows 15 characters).
    static func hostInterface(of id: String, index: Int = 0) -> String {
        index == 0 ? "sl" + id.prefix(12) : "sl" + id.prefix(10) + "-\(index)"
    }

    /// The interface inside the container: eth0 for the first network, as in Docker.
    public var containerInterface: String { interface ?? "eth0" }
    /// The network's id (older states: the default bridge's).
    public var network: String { networkID ?? NetworkDefinition.bridgeID }
    /// The interface number: 0 for eth0.
    var index: Int { Int(containerInterface.dropFirst(3)) ?? 0 }
}

/// The host side of one bridge network (the default `bridge`, or one a user created):
/// its Linux bridge with the gateway address (created on first use, or again after a
/// reboot), its address allocator, outbound NAT and isolation from the other networks
/// (`PacketFilter`).
///
/// The allocator's table lives with the bridge, not in a state root: the bridge is one per
/// host, and containers of different state roots (the tests use one each, at once) share
/// the default one, so one table must serve them all. It is in `/run/swiftlet/network`
/// (tmpfs), which, like the bridge and every running container, does not survive a reboot.
public struct BridgeNetwork: Sendable {
    public static let defaultBridge = "swiftlet0"
    public static let defaultSubnet = IPv4Subnet("10.88.0.0/16")!
    public static let defaultTableDirectory = "/run/swiftlet/network"

    public let id: String
    public let bridge: String
    public let subnet: IPv4Subnet
    public let gateway: IPv4Address
    public let `internal`: Bool
    let allocator: AddressAllocator

    /// The host side of `definition`, which must be a bridge network.
    init(_ definition: NetworkDefinition, tableDirectory: String = defaultTableDirectory) throws {
        guard let bridge = definition.bridge, let subnet = definition.subnet else {
            throw SwiftletError("network \(definition.name) has no bridge", code: .invalidArgument)
        }
        id = definition.id
        self.bridge = bridge
        self.subnet = subnet
        gateway = definition.gateway ?? subnet.gateway
        self.internal = definition.internal
        allocator = AddressAllocator(directory: tableDirectory, name: bridge, subnet: subnet, gateway: gateway)
    }

    /// The default bridge, with its allocator table in `tableDirectory`.
    public init(tableDirectory: String = defaultTableDirectory) {
        // The default definition always has a bridge and a subnet.
        self = try! BridgeNetwork(.defaultBridge, tableDirectory: tableDirectory)
    }

    /// Makes sure the bridge is up and its rules are in place. Without the rules,
    /// containers on the default bridge still reach the host (a warning, as dockerd
    /// without forwarding), unless `required` (ports to publish, or a user network whose
    /// isolation depends on them).
    func ensureUp(required: Bool) throws {
        try HostLinks.ensureBridge(bridge, address: gateway, prefix: subnet.prefix)
        do {
            try PacketFilter.ensureBridgeRules(bridge: bridge, subnet: subnet, internal: self.internal)
        } catch {
            if required || id != NetworkDefinition.bridgeID { throw error }
            FileHandle.standardError.write(Data("WARNING: containers on \(bridge) cannot reach other networks: \(error)\n".utf8))
        }
    }

    /// Reserves an address for container `id` and names its interface number `index`.
    func attach(id container: String, index: Int) throws -> NetworkAttachment {
        let address = try allocator.allocate(for: container)
        return NetworkAttachment(id: container, address: address, network: self, index: index)
    }

    /// Deletes the container's host link (if still there) and frees its address.
    func detach(id container: String, hostInterface: String) {
        HostLinks.delete(hostInterface)
        try? allocator.release(container)
    }

    /// Takes the network down: its bridge, its rules, its allocator table (`network rm`).
    func remove() {
        PacketFilter.removeBridgeRules(bridge: bridge, subnet: subnet)
        HostLinks.delete(bridge)
        allocator.removeTable()
    }
}
