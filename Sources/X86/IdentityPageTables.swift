/// 4-level x86-64 page tables identity-mapping the low guest-physical space with
/// 2 MiB pages (Intel SDM Vol. 3A, 4.5 "4-Level Paging"), as the 64-bit Linux entry
/// requires (boot.rst, "64-bit Boot Protocol": the kernel, zero page and command line
/// must be identity mapped).
public struct IdentityPageTables: Sendable {
    /// Present | writable.
    static let tableFlags: UInt64 = 0x3
    /// Present | writable | page size (2 MiB leaf).
    static let largePageFlags: UInt64 = 0x83
    static let pageSize = 4096
    static let largePage: UInt64 = 2 << 20

    /// Where the PML4 goes; the PDPT and the page directories follow page by page.
    public var baseAddress: UInt64
    /// How many GiB to map from address 0 (one page directory per GiB, at most 512).
    public var gigabytes: Int

    public init(baseAddress: UInt64 = BootLayout.pageTablesAddress, gigabytes: Int = 4) {
        self.baseAddress = baseAddress
        self.gigabytes = max(1, min(gigabytes, 512))
    }

    /// The value for CR3.
    public var pml4Address: UInt64 { baseAddress }

    /// PML4, PDPT, then `gigabytes` page directories, contiguous from ``baseAddress``.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: (2 + gigabytes) * Self.pageSize)
        let pdpt = baseAddress + UInt64(Self.pageSize)
        bytes.setLittleEndian(pdpt | Self.tableFlags, at: 0)
        for gib in 0..<gigabytes {
            let directory = baseAddress + UInt64((2 + gib) * Self.pageSize)
            bytes.setLittleEndian(directory | Self.tableFlags, at: Self.pageSize + gib * 8)
            for entry in 0..<512 {
                let physical = (UInt64(gib) * 512 + UInt64(entry)) * Self.largePage
                bytes.setLittleEndian(physical | Self.largePageFlags, at: (2 + gib) * Self.pageSize + entry * 8)
            }
        }
        return bytes
    }
}
