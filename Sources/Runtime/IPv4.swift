import Foundation

/// An IPv4 address (host byte order inside), parsed from and printed as dotted quad.
public struct IPv4Address: TextCodable, Hashable, Comparable, Sendable {
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

}

/// An IPv4 subnet `address/prefix` (RFC 4632 notation), the network address aligned.
public struct IPv4Subnet: TextCodable, Hashable, Sendable {
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

    /// The subnet of `prefix` bits holding `address`.
    init(containing address: IPv4Address, prefix: Int) {
        self.prefix = prefix
        network = IPv4Address(address.value & (prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)))
    }

    var mask: UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }
    /// The first host address: the bridge's (the containers' gateway) unless a network
    /// names another.
    public var gateway: IPv4Address { IPv4Address(network.value + 1) }
    /// Every host address: after the network address, before the broadcast address.
    public var hostAddresses: ClosedRange<UInt32> { (network.value + 1)...(network.value | ~mask) - 1 }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    /// Whether the two subnets share an address.
    public func overlaps(_ other: IPv4Subnet) -> Bool {
        let shorter = min(prefix, other.prefix)
        let mask = shorter == 0 ? 0 : UInt32.max << UInt32(32 - shorter)
        return network.value & mask == other.network.value & mask
    }

    public var description: String { "\(network)/\(prefix)" }

}

/// A value stored in JSON as its text (a dotted quad, a CIDR subnet), parsed back with
/// its failable initializer; text it cannot parse is a decoding error.
public protocol TextCodable: Codable, CustomStringConvertible {
    init?(_ text: String)
}

extension TextCodable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a valid \(Self.self): \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
