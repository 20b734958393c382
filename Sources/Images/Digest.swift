import HostSystem
import Crypto
import Foundation

/// A content digest as defined by the OCI image-spec ("Digests", descriptor.md):
/// `algorithm:encoded`. Only `sha256` is accepted, with 64 lowercase hex characters.
public struct Digest: Hashable, Comparable, Codable, CustomStringConvertible, Sendable {
    /// The 64 lowercase hex characters after `sha256:`.
    public let hex: String

    public init(parsing text: String) throws {
        guard text.hasPrefix("sha256:") else {
            throw SwiftletError("unsupported digest '\(text)': only sha256:<64 hex> is supported")
        }
        let hex = String(text.dropFirst(7))
        guard hex.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw SwiftletError("malformed digest '\(text)': expected sha256: followed by 64 lowercase hex digits")
        }
        self.hex = hex
    }

    init(hex: String) {
        self.hex = hex
    }

    /// The digest of some bytes held in memory.
    public static func of(_ data: Data) -> Digest {
        var hasher = DigestHasher()
        hasher.update(data)
        return hasher.finalize()
    }

    public var description: String { "sha256:\(hex)" }

    /// The first 12 hex characters, as `docker images` shows an image id.
    public var short: String { String(hex.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Digest(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Incremental SHA-256 over a stream of bytes.
struct DigestHasher {
    private var sha = SHA256()

    mutating func update(_ data: Data) {
        sha.update(data: data)
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        sha.update(bufferPointer: bytes)
    }

    func finalize() -> Digest {
        let bytes = sha.finalize()
        let table = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in bytes {
            hex.append(table[Int(byte >> 4)])
            hex.append(table[Int(byte & 0xF)])
        }
        return Digest(hex: String(decoding: hex, as: UTF8.self))
    }
}
