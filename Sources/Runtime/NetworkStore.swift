import Foundation
import HostSystem
import Units
#if canImport(Glibc)
import Glibc
#endif

/// A network containers attach to (Docker's network object, `docker network create`,
/// driver `bridge`): a Linux bridge of its own with an IPv4 subnet and the gateway address
/// on the bridge. `internal` networks have no way out (no NAT, nothing forwarded to
/// other interfaces). The pre-defined `bridge` (Swiftlet's `swiftlet0`) and `none` are
/// not stored and cannot be removed; on the networks users create, the embedded DNS
/// server answers the containers' names (Docker's behaviour: not on the default bridge).
public struct NetworkDefinition: Codable, Equatable, Sendable {
    public var id: String
    public var name: String
    /// `bridge`, or `null` for `none` (Docker's driver names).
    public var driver: String
    /// Nil for `none`.
    public var subnet: IPv4Subnet?
    public var gateway: IPv4Address?
    /// The Linux bridge: `swiftlet0`, or `swbr-` and the id's first 10 hex digits; nil for `none`.
    public var bridge: String?
    public var `internal`: Bool
    public var labels: [String: String]
    public var created: Date

    public static let bridgeID = "5a1f7e1b0b1d9e0e8c4f3a2b6d7c8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    public static let noneID = "6b2e8f2c1c2e0f1f9d5e4b3c7e8d9f0a1b2c3d4e5f6071829304b5c6d7e8f9a0"

    /// The default bridge every `--network bridge` container joins.
    public static let defaultBridge = NetworkDefinition(
        id: bridgeID, name: "bridge", driver: "bridge", subnet: BridgeNetwork.defaultSubnet,
        gateway: BridgeNetwork.defaultSubnet.gateway, bridge: BridgeNetwork.defaultBridge, internal: false,
        labels: [:], created: Date(timeIntervalSince1970: 0))
    /// `--network none`: loopback only.
    public static let none = NetworkDefinition(
        id: noneID, name: "none", driver: "null", subnet: nil, gateway: nil, bridge: nil, internal: false,
        labels: [:], created: Date(timeIntervalSince1970: 0))
    public static let predefined = [defaultBridge, none]

    public var isPredefined: Bool { id == Self.bridgeID || id == Self.noneID }
    /// Whether the embedded DNS server answers names on this network.
    public var hasEmbeddedDNS: Bool { !isPredefined }
}

/// The networks of a state root: one `networks/<id>.json` per user-defined network,
/// created and removed under `networks/lock` (names are unique per root). Each network's
/// bridge is made at `create`, under the host-wide bridge lock, after checking its subnet
/// against every address and route on the host, so networks of different state roots never
/// share a subnet.
public struct NetworkStore: Sendable {
    public let directory: String
    /// Where subnets are picked from when `create` is given none: 10.89.0.0/24 upwards
    /// (podman's default pool; Docker's 172.17-31 ranges are left to dockerd).
    static let pool = (first: IPv4Address("10.89.0.0")!, count: 256, prefix: 24)

    public init(root: String) throws {
        directory = "\(root)/networks"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SwiftletError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    /// The pre-defined networks, then the created ones, by name.
    public func all() -> [NetworkDefinition] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let stored = names.filter { $0.hasSuffix(".json") }.compactMap { name -> NetworkDefinition? in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { return nil }
            return try? decode(NetworkDefinition.self, data, what: name)
        }
        return NetworkDefinition.predefined + stored.sorted { $0.name < $1.name }
    }

    /// The network named `reference`, or with that id or unique id prefix (Docker's lookup order).
    public func resolve(_ reference: String) throws -> NetworkDefinition {
        let networks = all()
        if let named = networks.first(where: { $0.name == reference }) { return named }
        if let exact = networks.first(where: { $0.id == reference }) { return exact }
        let prefixed = reference.isEmpty ? [] : networks.filter { $0.id.hasPrefix(reference) }
        if prefixed.count == 1 { return prefixed[0] }
        if prefixed.count > 1 {
            throw SwiftletError("network \(reference) is ambiguous (\(prefixed.count) matches found based on ID prefix)", code: .invalidArgument)
        }
        throw SwiftletError("network \(reference) not found", code: .notFound)
    }

    /// What `network create` asks for.
    public struct CreateRequest: Sendable {
        public var name: String
        public var subnet: IPv4Subnet?
        public var gateway: IPv4Address?
        public var `internal` = false
        public var labels: [String: String] = [:]

        public init(name: String) {
            self.name = name
        }
    }

    /// Creates a network and its bridge: the subnet given, else the first free one of the
    /// pool; the gateway given (inside the subnet), else its first address.
    public func create(_ request: CreateRequest) throws -> NetworkDefinition {
        guard (try? ContainerName.validate(request.name)) == request.name else {
            throw SwiftletError("invalid network name \"\(request.name)\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", code: .invalidArgument)
        }
        if let gateway = request.gateway {
            guard let subnet = request.subnet else {
                throw SwiftletError("a gateway needs a subnet (--subnet) to belong to", code: .invalidArgument)
            }
            guard subnet.contains(gateway), subnet.hostAddresses.contains(gateway.value) else {
                throw SwiftletError("no matching subnet for gateway \(gateway) (subnet \(subnet))", code: .invalidArgument)
            }
        }
        return try withLock {
            if all().contains(where: { $0.name == request.name }) || request.name == "host" {
                throw SwiftletError("network with name \(request.name) already exists", code: .conflict)
            }
            let id = HostIdentity.randomID()
            var network = NetworkDefinition(
                id: id, name: request.name, driver: "bridge", subnet: nil, gateway: nil, bridge: "swbr-" + id.prefix(10),
                internal: request.internal, labels: request.labels, created: Date())
            try HostLinks.withBridgeLock {
                let taken = all().compactMap(\.subnet) + HostRoutes.subnets()
                let subnet = try request.subnet ?? Self.freeSubnet(avoiding: taken)
                if request.subnet != nil, let clash = taken.first(where: { $0.overlaps(subnet) }) {
                    throw SwiftletError("Pool overlaps with other one on this address space (\(subnet) and \(clash))", code: .conflict)
                }
                network.subnet = subnet
                network.gateway = request.gateway ?? subnet.gateway
                try HostLinks.createBridge(network.bridge!, address: network.gateway!, prefix: subnet.prefix)
            }
            do {
                try AtomicFile.write(Array(try encode(network)), to: path(network.id))
            } catch {
                HostLinks.delete(network.bridge!)
                throw error
            }
            return network
        }
    }

    /// Deletes a created network's definition (the caller has taken down its bridge and rules).
    func remove(_ network: NetworkDefinition) throws {
        try withLock {
            if unlink(path(network.id)) != 0 && errno != ENOENT {
                throw SwiftletError("cannot remove network \(network.name)", errno: errno)
            }
        }
    }

    static func freeSubnet(avoiding taken: [IPv4Subnet]) throws -> IPv4Subnet {
        for index in 0..<pool.count {
            let candidate = IPv4Subnet(containing: IPv4Address(pool.first.value + UInt32(index) << 8), prefix: pool.prefix)
            if !taken.contains(where: { $0.overlaps(candidate) }) { return candidate }
        }
        throw SwiftletError("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network (10.89.0.0/16 is used up); give one with --subnet",
                            code: .conflict)
    }

    private func path(_ id: String) -> String { "\(directory)/\(id).json" }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let path = "\(directory)/lock"
        let fd = try sys("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(path)") { flock(fd, LOCK_EX) }
        return try body()
    }
}

/// The IPv4 subnets the host already routes (`/proc/net/route`, the main table: each
/// interface's connected subnets and any static routes, the default route left out), which
/// a new network must not overlap.
enum HostRoutes {
    static func subnets(table: String = "/proc/net/route") -> [IPv4Subnet] {
        guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Iface Destination Gateway Flags RefCnt Use Metric Mask …: addresses are the
            // network-order word printed as a host-order number.
            guard fields.count >= 8, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16),
                  mask != 0 else { return nil }
            let prefix = mask.nonzeroBitCount
            return IPv4Subnet(containing: IPv4Address(UInt32(bigEndian: destination)), prefix: prefix)
        }
    }
}
