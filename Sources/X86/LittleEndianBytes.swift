/// Little-endian field access on byte arrays: the encoding of every x86 boot and
/// ACPI structure this module builds. Reads return nil past the end; writes grow
/// nothing and are only used at offsets inside structures this module sized.
extension Array where Element == UInt8 {
    /// Reads a little-endian unsigned integer of `T`'s width at `offset`, or nil when
    /// the bytes are not all there.
    public func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type, at offset: Int) -> T? {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return nil }
        var value: T = 0
        for i in 0..<width {
            value |= T(self[offset + i]) << (8 * i)
        }
        return value
    }

    /// Stores `value` little-endian at `offset` (which must be inside the array).
    public mutating func setLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size {
            self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i))
        }
    }

    /// Appends `value` little-endian.
    public mutating func appendLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for i in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: value >> (8 * i)))
        }
    }

    /// Appends the ASCII bytes of `text`, padded with `pad` or cut to `width`.
    mutating func appendASCII(_ text: String, width: Int, pad: UInt8 = 0x20) {
        let bytes = Array(text.utf8.prefix(width))
        append(contentsOf: bytes)
        append(contentsOf: [UInt8](repeating: pad, count: width - bytes.count))
    }
}
