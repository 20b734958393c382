/// Encoders for the subset of ACPI Machine Language a VMM's DSDT needs (ACPI 6.5,
/// chapter 20 "ACPI Machine Language Specification"): names, integers, strings,
/// packages, buffers, `Name`, `Scope` and `Device` objects.
public enum AML {
    static let zeroOp: UInt8 = 0x00
    static let oneOp: UInt8 = 0x01
    static let bytePrefix: UInt8 = 0x0A
    static let wordPrefix: UInt8 = 0x0B
    static let dwordPrefix: UInt8 = 0x0C
    static let stringPrefix: UInt8 = 0x0D
    static let qwordPrefix: UInt8 = 0x0E
    static let nameOp: UInt8 = 0x08
    static let scopeOp: UInt8 = 0x10
    static let bufferOp: UInt8 = 0x11
    static let packageOp: UInt8 = 0x12
    static let extOpPrefix: UInt8 = 0x5B
    static let deviceOp: UInt8 = 0x82
    static let rootChar: UInt8 = 0x5C
    static let dualNamePrefix: UInt8 = 0x2E
    static let multiNamePrefix: UInt8 = 0x2F

    /// A 4-character NameSeg, padded with `_`.
    public static func nameSegment(_ name: String) -> [UInt8] {
        var bytes = Array(name.utf8.prefix(4))
        while bytes.count < 4 { bytes.append(UInt8(ascii: "_")) }
        return bytes
    }

    /// A NameString: optional root prefix `\`, then dot-separated segments.
    public static func nameString(_ path: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = Substring(path)
        if rest.first == "\\" {
            bytes.append(rootChar)
            rest = rest.dropFirst()
        }
        let segments = rest.split(separator: ".").map { nameSegment(String($0)) }
        switch segments.count {
        case 0: bytes.append(0) // NullName
        case 1: bytes += segments[0]
        case 2: bytes += [dualNamePrefix] + segments[0] + segments[1]
        default: bytes += [multiNamePrefix, UInt8(segments.count)] + segments.flatMap { $0 }
        }
        return bytes
    }

    /// The shortest integer encoding of `value`.
    public static func integer(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8]
        switch value {
        case 0: return [zeroOp]
        case 1: return [oneOp]
        case ...0xFF: bytes = [bytePrefix]; bytes.append(UInt8(value))
        case ...0xFFFF: bytes = [wordPrefix]; bytes.appendLittleEndian(UInt16(value))
        case ...0xFFFF_FFFF: bytes = [dwordPrefix]; bytes.appendLittleEndian(UInt32(value))
        default: bytes = [qwordPrefix]; bytes.appendLittleEndian(value)
        }
        return bytes
    }

    /// A NUL-terminated ASCII string object.
    public static func string(_ text: String) -> [UInt8] {
        [stringPrefix] + Array(text.utf8) + [0]
    }

    /// An EISA id ("PNP0501") compressed into its 32-bit integer form.
    public static func eisaID(_ id: String) -> [UInt8] {
        let chars = Array(id.utf8)
        guard chars.count == 7 else { return integer(0) }
        func letter(_ c: UInt8) -> UInt32 { UInt32(c &- 0x40) & 0x1F }
        func hex(_ c: UInt8) -> UInt32 {
            switch c {
            case 0x30...0x39: return UInt32(c - 0x30)
            case 0x41...0x46: return UInt32(c - 0x41 + 10)
            case 0x61...0x66: return UInt32(c - 0x61 + 10)
            default: return 0
            }
        }
        let vendor = (letter(chars[0]) << 10) | (letter(chars[1]) << 5) | letter(chars[2])
        let product = (hex(chars[3]) << 12) | (hex(chars[4]) << 8) | (hex(chars[5]) << 4) | hex(chars[6])
        // Stored big-endian by bytes: vendor (2 bytes) then product (2 bytes).
        let value = ((vendor >> 8) & 0xFF) | ((vendor & 0xFF) << 8) | (((product >> 8) & 0xFF) << 16) | ((product & 0xFF) << 24)
        var bytes = [dwordPrefix]
        bytes.appendLittleEndian(value)
        return bytes
    }

    /// PkgLength for `contentLength` bytes following it (the encoding counts itself).
    public static func packageLength(_ contentLength: Int) -> [UInt8] {
        if contentLength + 1 < 0x40 { return [UInt8(contentLength + 1)] }
        for extra in 1...3 {
            let total = contentLength + 1 + extra
            if total < 1 << (4 + 8 * extra) {
                var bytes = [UInt8(extra << 6) | UInt8(total & 0xF)]
                for i in 0..<extra { bytes.append(UInt8(truncatingIfNeeded: total >> (4 + 8 * i))) }
                return bytes
            }
        }
        return [] // unreachable for tables under 256 MiB
    }

    /// `Package(n) { elements }`.
    public static func package(_ elements: [[UInt8]]) -> [UInt8] {
        let content = [UInt8(elements.count)] + elements.flatMap { $0 }
        return [packageOp] + packageLength(content.count) + content
    }

    /// `Buffer() { bytes }`.
    public static func buffer(_ bytes: [UInt8]) -> [UInt8] {
        let content = integer(UInt64(bytes.count)) + bytes
        return [bufferOp] + packageLength(content.count) + content
    }

    /// `Name(path, object)`.
    public static func name(_ path: String, _ object: [UInt8]) -> [UInt8] {
        [nameOp] + nameString(path) + object
    }

    /// `Scope(path) { terms }`.
    public static func scope(_ path: String, _ terms: [[UInt8]]) -> [UInt8] {
        let content = nameString(path) + terms.flatMap { $0 }
        return [scopeOp] + packageLength(content.count) + content
    }

    /// `Device(name) { terms }`.
    public static func device(_ name: String, _ terms: [[UInt8]]) -> [UInt8] {
        let content = nameString(name) + terms.flatMap { $0 }
        return [extOpPrefix, deviceOp] + packageLength(content.count) + content
    }
}
