/// The 36-byte System Description Table header every ACPI table but the RSDP starts
/// with (ACPI 6.5, 5.2.6 "System Description Table Header"), and the checksum rule
/// all ACPI tables obey: the bytes of the table sum to 0 modulo 256.
public enum ACPITableHeader {
    public static let size = 36
    public static let checksumOffset = 9
    public static let oemID = "SWIFTL"
    public static let creatorID = "SWLT"

    /// A complete table: header for `signature`/`revision` + `body`, checksum set.
    public static func table(signature: String, revision: UInt8, body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendASCII(signature, width: 4)
        bytes.appendLittleEndian(UInt32(size + body.count))
        bytes.append(revision)
        bytes.append(0) // checksum, fixed below
        bytes.appendASCII(oemID, width: 6)
        bytes.appendASCII("SWLT" + signature, width: 8)
        bytes.appendLittleEndian(UInt32(1)) // OEM revision
        bytes.appendASCII(creatorID, width: 4)
        bytes.appendLittleEndian(UInt32(1)) // creator revision
        bytes.append(contentsOf: body)
        bytes[checksumOffset] = checksum(bytes)
        return bytes
    }

    /// The byte that makes `bytes` (with that byte counted as 0) sum to 0 mod 256.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt8 where C.Element == UInt8 {
        var sum: UInt8 = 0
        for byte in bytes { sum &+= byte }
        return 0 &- sum
    }
}

/// An ACPI Generic Address Structure (ACPI 6.5, 5.2.3.2): where a fixed register
/// lives. Only the system-I/O form is used here.
public struct GenericAddress: Equatable, Sendable {
    public var addressSpace: UInt8
    public var bitWidth: UInt8
    public var bitOffset: UInt8
    /// 1 = byte access.
    public var accessSize: UInt8
    public var address: UInt64

    /// A byte-wide register at I/O `port`.
    public static func ioPort(_ port: UInt16) -> GenericAddress {
        GenericAddress(addressSpace: 1, bitWidth: 8, bitOffset: 0, accessSize: 1, address: UInt64(port))
    }

    public var encoded: [UInt8] {
        var bytes = [addressSpace, bitWidth, bitOffset, accessSize]
        bytes.appendLittleEndian(address)
        return bytes
    }
}
