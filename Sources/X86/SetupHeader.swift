/// Why a kernel image cannot be booted: the messages are shown to users as-is.
public enum BootImageError: Error, Equatable, CustomStringConvertible {
    case notAKernel
    case protocolTooOld(version: UInt16)
    case not64Bit
    case truncated(what: String)
    case elf(String)

    public var description: String {
        switch self {
        case .notAKernel:
            return "not a bzImage (no \"HdrS\" setup header) or ELF vmlinux"
        case .protocolTooOld(let version):
            return "bzImage boot protocol \(version >> 8).\(version & 0xff) is too old (need 2.12 or later)"
        case .not64Bit:
            return "bzImage has no 64-bit entry point (XLF_KERNEL_64 not set)"
        case .truncated(let what):
            return "kernel image is truncated: \(what)"
        case .elf(let reason):
            return "ELF kernel: \(reason)"
        }
    }
}

/// The real-mode kernel header of a bzImage, at file offset 0x1F1
/// (Documentation/arch/x86/boot.rst, "The Real-Mode Kernel Header").
public struct SetupHeader: Equatable, Sendable {
    /// Offset of the header in the image and in `boot_params`.
    public static let offset = 0x1F1
    /// `XLF_KERNEL_64`: the kernel has the 64-bit entry point at load address + 0x200.
    public static let xlfKernel64: UInt16 = 1 << 0
    /// Oldest protocol this loader supports: 2.12 (xloadflags, 64-bit entry).
    public static let minimumVersion: UInt16 = 0x020C

    public var setupSectors: Int
    public var version: UInt16
    public var initrdAddressMax: UInt32
    public var xloadFlags: UInt16
    public var commandLineSize: UInt32
    public var initSize: UInt32
    /// The header's raw bytes, from 0x1F1 to its self-declared end, which the loader
    /// copies into the zero page.
    public var rawBytes: [UInt8]

    /// Whether `image` carries the "HdrS" setup-header signature of a bzImage.
    public static func hasSignature(_ image: [UInt8]) -> Bool {
        image.count > 0x264 && image[0x202..<0x206].elementsEqual("HdrS".utf8)
    }

    /// Parses and validates the header of a bzImage.
    public init(image: [UInt8]) throws(BootImageError) {
        guard Self.hasSignature(image) else { throw .notAKernel }
        let version = image.littleEndian(UInt16.self, at: 0x206) ?? 0
        guard version >= Self.minimumVersion else { throw .protocolTooOld(version: version) }
        let xloadFlags = image.littleEndian(UInt16.self, at: 0x236) ?? 0
        guard xloadFlags & Self.xlfKernel64 != 0 else { throw .not64Bit }
        let sectors = Int(image[0x1F1])
        self.setupSectors = sectors == 0 ? 4 : sectors
        self.version = version
        self.initrdAddressMax = image.littleEndian(UInt32.self, at: 0x22C) ?? 0
        self.xloadFlags = xloadFlags
        self.commandLineSize = image.littleEndian(UInt32.self, at: 0x238) ?? 0
        self.initSize = image.littleEndian(UInt32.self, at: 0x260) ?? 0
        // The header ends at 0x202 + the byte at 0x201 (the jump's displacement).
        let end = 0x202 + Int(image[0x201])
        guard end <= image.count, end > Self.offset else { throw .truncated(what: "setup header") }
        self.rawBytes = Array(image[Self.offset..<end])
        guard protectedModeOffset < image.count else { throw .truncated(what: "protected-mode kernel") }
    }

    /// File offset of the protected-mode kernel: after the boot sector and the setup sectors.
    public var protectedModeOffset: Int { (setupSectors + 1) * 512 }

    /// Offset of the 64-bit entry point from the protected-mode kernel's load address.
    public static let entry64Offset: UInt64 = 0x200
}
