import Foundation

/// A network as the Engine API shows it (`GET /networks`, `network inspect`; the API's
/// `Network` object, dockerd 20.10's fields): shared by the CLI and the daemon.
public struct NetworkResource: Encodable, Sendable {
    /// IPAM: the default driver and the network's one IPv4 pool.
    public struct IPAM: Encodable, Sendable {
        public struct Pool: Encodable, Sendable {
            public var Subnet: String
            public var Gateway: String
        }

        public var Driver = "default"
        public var Options: [String: String] = [:]
        public var Config: [Pool]
    }

    /// A container on the network (the `Containers` map's values).
    public struct Endpoint: Encodable, Sendable {
        public var Name: String
        public var EndpointID: String
        public var MacAddress: String
        public var IPv4Address: String
        public var IPv6Address = ""
    }

    public struct ConfigReference: Encodable, Sendable {
        public var Network = ""
    }

    public var Name: String
    public var Id: String
    public var Created: String
    public var Scope = "local"
    public var Driver: String
    public var EnableIPv6 = false
    public var IPAM: IPAM
    public var Internal: Bool
    public var Attachable = false
    public var Ingress = false
    public var ConfigFrom = ConfigReference()
    public var ConfigOnly = false
    /// Every running container on the network (in the listing too, as dockerd 20.10 does).
    public var Containers: [String: Endpoint]
    public var Options: [String: String]
    public var Labels: [String: String]

    public init(_ usage: NetworkUsage) {
        let network = usage.network
        Name = network.name
        Id = network.id
        Created = Self.timestamp(network.created)
        Driver = network.driver
        self.IPAM = NetworkResource.IPAM(Config: network.subnet.map { [.init(Subnet: "\($0)", Gateway: (network.gateway ?? $0.gateway).description)] } ?? [])
        Internal = network.internal
        Containers = Dictionary(usage.containers.map { config, attachment in
            (config.id, Endpoint(Name: config.name, EndpointID: Self.endpointID(container: config.id, network: network.id),
                                 MacAddress: attachment.macAddress, IPv4Address: "\(attachment.address)/\(attachment.prefix)"))
        }) { first, _ in first }
        Options = network.bridge.map { ["com.docker.network.bridge.name": $0] } ?? [:]
        Labels = network.labels
    }

    /// A container's endpoint id on a network (Docker's are random; this one is derived,
    /// so every process names it alike).
    public static func endpointID(container: String, network: String) -> String {
        String(container.prefix(32)) + String(network.prefix(32))
    }

    /// RFC 3339 with nanoseconds, as dockerd prints times.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
