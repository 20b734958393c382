import HostSystem
import Units

/// A transport protocol a port is published for (`/tcp`, the default, or `/udp`).
public enum PortProtocol: String, Codable, CaseIterable, Sendable {
    case tcp
    case udp
}

/// One port publication as requested (`-p [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`, one
/// entry per port of a range; Docker's HostConfig.PortBindings entry): the host address
/// (nil: every address, Docker's 0.0.0.0), the host port (nil: an ephemeral one chosen
/// at start), the container port and protocol.
public struct PortBinding: Codable, Equatable, Sendable {
    public var hostIP: IPv4Address?
    public var hostPort: UInt16?
    public var containerPort: UInt16
    public var proto: PortProtocol

    public init(hostIP: IPv4Address? = nil, hostPort: UInt16? = nil, containerPort: UInt16, proto: PortProtocol = .tcp) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    /// Docker's key for the container side: `80/tcp`.
    public var portKey: String { "\(containerPort)/\(proto.rawValue)" }

    /// The bindings of one `-p` spec: `80`, `8080:80`, `127.0.0.1:8080:80`,
    /// `127.0.0.1::80`, ranges `8000-8002:80-82` (as many host as container ports), each
    /// optionally `/tcp` or `/udp`. Throws `.invalidArgument` with the spec on bad input.
    public static func parse(_ spec: String) throws(SwiftletError) -> [PortBinding] {
        func invalid(_ why: String) -> SwiftletError {
            SwiftletError("invalid port specification '\(spec)': \(why)", code: .invalidArgument)
        }
        var rest = Substring(spec)
        var proto = PortProtocol.tcp
        if let slash = rest.lastIndex(of: "/") {
            guard let named = PortProtocol(rawValue: String(rest[rest.index(after: slash)...]).lowercased()) else {
                throw invalid("the protocol must be tcp or udp")
            }
            proto = named
            rest = rest[..<slash]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count) else {
            throw invalid(parts.count > 3 ? "only IPv4 host addresses are supported" : "expected [IP:][HOSTPORT:]CONTAINERPORT")
        }
        var hostIP: IPv4Address?
        if parts.count == 3, !parts[0].isEmpty {
            guard let address = IPv4Address(parts[0]) else { throw invalid("'\(parts[0])' is not an IPv4 address") }
            hostIP = address.value == 0 ? nil : address
        }
        let containerPorts: PortRange
        do {
            containerPorts = try PortRange.parse(parts[parts.count - 1])
        } catch {
            throw invalid(error.description)
        }
        var hostPorts: PortRange?
        if parts.count >= 2, !parts[parts.count - 2].isEmpty {
            do {
                hostPorts = try PortRange.parse(parts[parts.count - 2])
            } catch {
                throw invalid(error.description)
            }
        }
        let count = Int(containerPorts.last - containerPorts.first) + 1
        if let hostPorts, Int(hostPorts.last - hostPorts.first) + 1 != count {
            throw invalid("the host range has \(Int(hostPorts.last - hostPorts.first) + 1) ports, the container range \(count)")
        }
        return (0..<count).map { offset in
            PortBinding(hostIP: hostIP, hostPort: hostPorts.map { $0.first + UInt16(offset) },
                        containerPort: containerPorts.first + UInt16(offset), proto: proto)
        }
    }

    /// The bindings for an image's exposed ports (`-P`; keys like `80/tcp` or `80`), each
    /// to an ephemeral host port on every address, in port order.
    public static func publishingAll(exposed keys: some Sequence<String>) throws(SwiftletError) -> [PortBinding] {
        var bindings: [PortBinding] = []
        for key in keys {
            for binding in try parse(key) { bindings.append(binding) }
        }
        return bindings.sorted { ($0.containerPort, $0.proto.rawValue) < ($1.containerPort, $1.proto.rawValue) }
    }
}

/// A port published while the container runs: the binding with its host port settled
/// (an ephemeral one chosen by the kernel); recorded in the container's state with its
/// network attachment.
public struct PublishedPort: Codable, Equatable, Sendable {
    public var hostIP: IPv4Address?
    public var hostPort: UInt16
    public var containerPort: UInt16
    public var proto: PortProtocol

    public init(hostIP: IPv4Address?, hostPort: UInt16, containerPort: UInt16, proto: PortProtocol) {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }

    public var portKey: String { "\(containerPort)/\(proto.rawValue)" }

    /// The host address as Docker prints it: `0.0.0.0` for every address.
    public var hostAddress: String { hostIP?.description ?? "0.0.0.0" }

    /// `swiftlet port`'s line for it: `0.0.0.0:32768`.
    public var hostEndpoint: String { "\(hostAddress):\(hostPort)" }
}

/// What `inspect` shows as NetworkSettings.Ports, Docker's shape: every published or
/// exposed port key (`80/tcp`) to its host bindings (nil when exposed but not published
/// or not running).
public enum PortMap {
    /// One host binding (Docker's `PortBinding`: `HostIp`, `HostPort`).
    public struct HostBinding: Codable, Equatable, Sendable {
        public var HostIp: String
        public var HostPort: String
    }

    /// The map of a container: its configured bindings' keys, filled from `published`
    /// (the running container's ports).
    public static func ports(configured: [PortBinding], published: [PublishedPort]) -> [String: [HostBinding]?] {
        var map: [String: [HostBinding]?] = [:]
        for binding in configured { map[binding.portKey] = .some(nil) }
        for port in published {
            let binding = HostBinding(HostIp: port.hostAddress, HostPort: String(port.hostPort))
            map[port.portKey] = .some(((map[port.portKey] ?? nil) ?? []) + [binding])
        }
        return map
    }

    /// HostConfig.PortBindings as dockerd shows it: the requested bindings by key, an
    /// empty HostIp for every address and an empty HostPort for an ephemeral port.
    public static func requested(_ bindings: [PortBinding]) -> [String: [HostBinding]] {
        var map: [String: [HostBinding]] = [:]
        for binding in bindings {
            map[binding.portKey, default: []].append(
                HostBinding(HostIp: binding.hostIP?.description ?? "", HostPort: binding.hostPort.map(String.init) ?? ""))
        }
        return map
    }
}

extension PortBinding {
    /// A container's bindings at create: the `-p` ones, then with `-P` each of the image's
    /// `exposed` ports not already bound, to an ephemeral port. Publishing needs a
    /// network: with `--network none` it is refused, as Docker does.
    static func bindings(_ options: CreateOptions, exposed: [String]) throws -> [PortBinding]? {
        var bindings = options.ports
        if options.publishAll {
            let bound = Set(bindings.map(\.portKey))
            bindings += try publishingAll(exposed: exposed).filter { !bound.contains($0.portKey) }
        }
        guard !bindings.isEmpty else { return nil }
        guard options.network != .none else {
            throw SwiftletError("conflicting options: port publishing and the container type network mode", code: .invalidArgument)
        }
        return bindings
    }
}

extension PortMap {
    /// A binding as the Engine API's create request carries it (HostConfig.PortBindings:
    /// `80/tcp` → [{HostIp, HostPort}], either empty for every address, an ephemeral port).
    public struct RequestedBinding: Decodable, Sendable {
        public var HostIp: String?
        public var HostPort: String?
    }
}

extension PortBinding {
    /// The bindings of an Engine API PortBindings map, in key order; the same checks as `-p`.
    public static func parse(engineBindings map: [String: [PortMap.RequestedBinding]?]) throws(SwiftletError) -> [PortBinding] {
        var bindings: [PortBinding] = []
        for (key, requested) in map.sorted(by: { $0.key < $1.key }) {
            for binding in requested ?? [] {
                bindings += try parse("\(binding.HostIp ?? ""):\(binding.HostPort ?? ""):\(key)")
            }
        }
        return bindings
    }
}
