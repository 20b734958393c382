/// Where the VMM puts each boot structure in guest-physical memory, and the shape of
/// the guest-physical address space (RAM below the 32-bit MMIO hole, RAM above 4 GiB).
///
/// Low-memory placement follows the Linux x86 boot protocol conventions
/// (Documentation/arch/x86/boot.rst, "Memory layout"): everything below 0x9FC00 is
/// usable RAM the kernel reclaims after boot; ACPI tables live in the reserved
/// 0xE0000–0xFFFFF BIOS area where the RSDP is searched for.
public enum BootLayout {
    /// Global descriptor table used at entry.
    public static let gdtAddress: UInt64 = 0x500
    /// An empty interrupt descriptor table (limit 0).
    public static let idtAddress: UInt64 = 0x520
    /// PVH `hvm_start_info` and what it points to (module list, memory map).
    public static let startInfoAddress: UInt64 = 0x6000
    public static let moduleListAddress: UInt64 = 0x6040
    public static let memoryMapAddress: UInt64 = 0x6100
    /// The Linux zero page (`struct boot_params`).
    public static let zeroPageAddress: UInt64 = 0x7000
    /// Initial stack pointer, just below the page tables.
    public static let bootStackPointer: UInt64 = 0x8FF0
    /// First page of the identity-mapped page tables (PML4, then PDPT, then PDs).
    public static let pageTablesAddress: UInt64 = 0x9000
    /// Kernel command line (NUL-terminated).
    public static let commandLineAddress: UInt64 = 0x20000
    /// Largest command line accepted, NUL included.
    public static let commandLineCapacity: Int = 0x10000
    /// End of the low RAM the e820 map reports usable (the classic EBDA start).
    public static let lowRAMEnd: UInt64 = 0x9FC00
    /// ACPI tables (RSDP first, then the rest), inside the reserved BIOS area.
    public static let acpiAddress: UInt64 = 0xE0000
    public static let acpiCapacity: Int = 0x20000
    /// The protected-mode kernel (and ELF kernels' lowest segment) load here.
    public static let kernelAddress: UInt64 = 0x100000
    /// Start of the 32-bit MMIO hole: RAM never extends past this below 4 GiB.
    public static let mmioHoleStart: UInt64 = 0xC000_0000
    /// RAM beyond the hole continues here.
    public static let highRAMStart: UInt64 = 0x1_0000_0000
    /// KVM's private pages (TSS: three pages; identity map: one) inside the hole.
    public static let identityMapAddress: UInt64 = 0xFFFB_C000
    public static let tssAddress: UInt64 = 0xFFFB_D000
    /// The IOAPIC and local APIC register windows.
    public static let ioapicAddress: UInt32 = 0xFEC0_0000
    public static let localAPICAddress: UInt32 = 0xFEE0_0000

    /// The guest-physical RAM ranges for `memorySize` bytes of RAM: up to the hole,
    /// then the remainder above 4 GiB.
    public static func ramRanges(memorySize: UInt64) -> [(start: UInt64, size: UInt64)] {
        let low = min(memorySize, mmioHoleStart)
        var ranges = [(start: UInt64(0), size: low)]
        if memorySize > low {
            ranges.append((highRAMStart, memorySize - low))
        }
        return ranges
    }
}
