/// The Linux "zero page", `struct boot_params` (arch/x86/include/uapi/asm/bootparam.h;
/// Documentation/arch/x86/zero-page.rst and boot.rst): the setup header copied from
/// the image plus what the loader fills in — command line, initrd, e820 map and the
/// ACPI RSDP address.
public struct BootParams: Sendable {
    public static let size = 4096

    /// Field offsets inside `struct boot_params`.
    public enum Offset {
        public static let acpiRSDPAddress = 0x070
        public static let extRamdiskImage = 0x0C0
        public static let extRamdiskSize = 0x0C4
        public static let extCommandLinePointer = 0x0C8
        public static let e820Entries = 0x1E8
        public static let bootFlag = 0x1FE
        public static let header = 0x202
        public static let typeOfLoader = 0x210
        public static let ramdiskImage = 0x218
        public static let ramdiskSize = 0x21C
        public static let commandLinePointer = 0x228
        public static let e820Table = 0x2D0
    }

    public var header: SetupHeader
    public var commandLineAddress: UInt64
    public var initrd: (address: UInt64, size: UInt64)?
    public var rsdpAddress: UInt64
    public var e820: E820Map

    public init(header: SetupHeader, commandLineAddress: UInt64, initrd: (address: UInt64, size: UInt64)?,
                rsdpAddress: UInt64, e820: E820Map) {
        self.header = header
        self.commandLineAddress = commandLineAddress
        self.initrd = initrd
        self.rsdpAddress = rsdpAddress
        self.e820 = e820
    }

    /// The 4 KiB page to place at ``BootLayout/zeroPageAddress``.
    public func encoded() -> [UInt8] {
        var page = [UInt8](repeating: 0, count: Self.size)
        page.replaceSubrange(SetupHeader.offset..<SetupHeader.offset + header.rawBytes.count, with: header.rawBytes)
        page.setLittleEndian(UInt16(0xAA55), at: Offset.bootFlag)
        page.replaceSubrange(Offset.header..<Offset.header + 4, with: Array("HdrS".utf8))
        // 0xFF: "undefined" boot loader, as boot.rst asks of loaders without an assigned ID.
        page[Offset.typeOfLoader] = 0xFF
        page.setLittleEndian(UInt32(truncatingIfNeeded: commandLineAddress), at: Offset.commandLinePointer)
        page.setLittleEndian(UInt32(truncatingIfNeeded: commandLineAddress >> 32), at: Offset.extCommandLinePointer)
        if let initrd {
            page.setLittleEndian(UInt32(truncatingIfNeeded: initrd.address), at: Offset.ramdiskImage)
            page.setLittleEndian(UInt32(truncatingIfNeeded: initrd.size), at: Offset.ramdiskSize)
            page.setLittleEndian(UInt32(truncatingIfNeeded: initrd.address >> 32), at: Offset.extRamdiskImage)
            page.setLittleEndian(UInt32(truncatingIfNeeded: initrd.size >> 32), at: Offset.extRamdiskSize)
        }
        page.setLittleEndian(rsdpAddress, at: Offset.acpiRSDPAddress)
        let entries = e820.entries.prefix(E820Map.maxZeroPageEntries)
        page[Offset.e820Entries] = UInt8(entries.count)
        let table = E820Map(entries: Array(entries)).zeroPageBytes
        page.replaceSubrange(Offset.e820Table..<Offset.e820Table + table.count, with: table)
        return page
    }
}
