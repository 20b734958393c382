/// The BIOS INT 15h/E820 physical memory map handed to Linux in `boot_params`
/// (ACPI 6.5 section 15, "System Address Map Interfaces"; boot.rst zero-page field
/// `e820_table` at 0x2D0) and, as the same ranges, to PVH guests in `hvm_start_info`.
public struct E820Map: Equatable, Sendable {
    /// One range of the map: [address, address + size) of one type.
    public struct Entry: Equatable, Sendable {
        public enum Kind: UInt32, Sendable {
            case ram = 1
            case reserved = 2
            case acpiReclaimable = 3
        }
        public var address: UInt64
        public var size: UInt64
        public var kind: Kind

        public init(address: UInt64, size: UInt64, kind: Kind) {
            self.address = address
            self.size = size
            self.kind = kind
        }
    }

    /// The zero page holds at most this many entries (`E820_MAX_ENTRIES_ZEROPAGE`).
    public static let maxZeroPageEntries = 128

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The map of a guest with `memorySize` bytes of RAM laid out by ``BootLayout``:
    /// low RAM up to the EBDA, the reserved BIOS area holding the ACPI tables, RAM
    /// from 1 MiB to the MMIO hole, and RAM above 4 GiB.
    public init(memorySize: UInt64) {
        var entries = [Entry(address: 0, size: BootLayout.lowRAMEnd, kind: .ram),
                       Entry(address: BootLayout.lowRAMEnd, size: BootLayout.kernelAddress - BootLayout.lowRAMEnd,
                             kind: .reserved)]
        for range in BootLayout.ramRanges(memorySize: memorySize) {
            let start = max(range.start, BootLayout.kernelAddress)
            let end = range.start + range.size
            if end > start {
                entries.append(Entry(address: start, size: end - start, kind: .ram))
            }
        }
        self.entries = entries
    }

    /// The 20-byte packed `struct boot_e820_entry` records.
    public var zeroPageBytes: [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            bytes.appendLittleEndian(entry.address)
            bytes.appendLittleEndian(entry.size)
            bytes.appendLittleEndian(entry.kind.rawValue)
        }
        return bytes
    }

    /// The 24-byte `struct hvm_memmap_table_entry` records of the PVH boot ABI.
    public var pvhMemoryMapBytes: [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            bytes.appendLittleEndian(entry.address)
            bytes.appendLittleEndian(entry.size)
            bytes.appendLittleEndian(entry.kind.rawValue)
            bytes.appendLittleEndian(UInt32(0))
        }
        return bytes
    }
}
