/// An x86 segment descriptor (Intel SDM Vol. 3A, 3.4.5 "Segment Descriptors"): the
/// GDT entry bytes and the unpacked fields KVM's `kvm_segment` wants, kept in one
/// place so the two always agree.
public struct SegmentDescriptor: Equatable, Sendable {
    public var base: UInt32
    /// 20-bit limit (in pages when `granularity`).
    public var limit: UInt32
    /// Access byte: present, DPL, S, type.
    public var access: UInt8
    /// Flags nibble: G, D/B, L, AVL.
    public var flags: UInt8

    public init(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) {
        self.base = base
        self.limit = limit & 0xFFFFF
        self.access = access
        self.flags = flags & 0xF
    }

    /// Builds from the common `0xFAAA`-style "flags+access" word (e.g. 0xA09B = 64-bit code).
    public init(flagsAndAccess: UInt16, base: UInt32, limit: UInt32) {
        self.init(base: base, limit: limit, access: UInt8(flagsAndAccess & 0xFF), flags: UInt8(flagsAndAccess >> 12))
    }

    /// The 8-byte descriptor.
    public var encoded: UInt64 {
        var value = UInt64(limit & 0xFFFF)
        value |= UInt64(base & 0xFFFF) << 16
        value |= UInt64((base >> 16) & 0xFF) << 32
        value |= UInt64(access) << 40
        value |= UInt64((limit >> 16) & 0xF) << 48
        value |= UInt64(flags) << 52
        value |= UInt64((base >> 24) & 0xFF) << 56
        return value
    }

    public var type: UInt8 { access & 0xF }
    public var isSystem: Bool { access & 0x10 == 0 }
    public var privilegeLevel: UInt8 { (access >> 5) & 0x3 }
    public var isPresent: Bool { access & 0x80 != 0 }
    public var isLongMode: Bool { flags & 0x2 != 0 }
    public var isDefault32: Bool { flags & 0x4 != 0 }
    public var granularity: Bool { flags & 0x8 != 0 }
    /// The limit in bytes, as the descriptor cache holds it.
    public var byteLimit: UInt32 { granularity ? (limit << 12) | 0xFFF : limit }
}

/// The boot GDT: null, code, data, TSS — selectors 0x08, 0x10, 0x18.
public struct BootGDT: Sendable {
    public static let codeSelector: UInt16 = 0x08
    public static let dataSelector: UInt16 = 0x10
    public static let tssSelector: UInt16 = 0x18

    public var code: SegmentDescriptor
    public var data: SegmentDescriptor
    public var tss: SegmentDescriptor

    /// For the 64-bit Linux entry: L=1 code, flat data, a busy 64-bit TSS.
    public static let longMode = BootGDT(
        code: SegmentDescriptor(flagsAndAccess: 0xA09B, base: 0, limit: 0xFFFFF),
        data: SegmentDescriptor(flagsAndAccess: 0xC093, base: 0, limit: 0xFFFFF),
        tss: SegmentDescriptor(flagsAndAccess: 0x808B, base: 0, limit: 0xFFFFF))

    /// For the PVH entry: flat 32-bit code and data (PVH ABI: "CS: 32-bit code
    /// segment, base 0, limit 0xFFFFFFFF"), a busy 32-bit TSS.
    public static let protectedMode = BootGDT(
        code: SegmentDescriptor(flagsAndAccess: 0xC09B, base: 0, limit: 0xFFFFF),
        data: SegmentDescriptor(flagsAndAccess: 0xC093, base: 0, limit: 0xFFFFF),
        tss: SegmentDescriptor(flagsAndAccess: 0x008B, base: 0, limit: 0x67))

    /// The table as loaded at ``BootLayout/gdtAddress``.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in [UInt64(0), code.encoded, data.encoded, tss.encoded] {
            bytes.appendLittleEndian(entry)
        }
        return bytes
    }

    public var limit: UInt16 { UInt16(4 * 8 - 1) }
}
