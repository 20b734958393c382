/// The PVH boot ABI's `struct hvm_start_info` (version 1) with its module list and
/// memory map (xen/include/public/arch-x86/hvm/start_info.h): what `rbx` points to
/// at a PVH entry.
public struct HVMStartInfo: Sendable {
    public static let magic: UInt32 = 0x336E_C578
    public static let size = 56
    public static let moduleEntrySize = 32

    public var commandLineAddress: UInt64
    public var rsdpAddress: UInt64
    public var memoryMapAddress: UInt64
    public var memoryMapEntries: Int
    public var moduleListAddress: UInt64
    /// The initrd as module 0, if any.
    public var initrd: (address: UInt64, size: UInt64)?

    public init(commandLineAddress: UInt64, rsdpAddress: UInt64, memoryMapAddress: UInt64, memoryMapEntries: Int,
                moduleListAddress: UInt64, initrd: (address: UInt64, size: UInt64)?) {
        self.commandLineAddress = commandLineAddress
        self.rsdpAddress = rsdpAddress
        self.memoryMapAddress = memoryMapAddress
        self.memoryMapEntries = memoryMapEntries
        self.moduleListAddress = moduleListAddress
        self.initrd = initrd
    }

    /// The 56-byte start-info record.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(Self.magic)
        bytes.appendLittleEndian(UInt32(1))                      // version
        bytes.appendLittleEndian(UInt32(0))                      // flags
        bytes.appendLittleEndian(UInt32(initrd == nil ? 0 : 1)) // nr_modules
        bytes.appendLittleEndian(initrd == nil ? 0 : moduleListAddress)
        bytes.appendLittleEndian(commandLineAddress)
        bytes.appendLittleEndian(rsdpAddress)
        bytes.appendLittleEndian(memoryMapAddress)
        bytes.appendLittleEndian(UInt32(memoryMapEntries))
        bytes.appendLittleEndian(UInt32(0))                      // reserved
        return bytes
    }

    /// The module list (`struct hvm_modlist_entry`): the initrd, without a cmdline.
    public func encodedModuleList() -> [UInt8] {
        guard let initrd else { return [] }
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(initrd.address)
        bytes.appendLittleEndian(initrd.size)
        bytes.appendLittleEndian(UInt64(0))
        bytes.appendLittleEndian(UInt64(0))
        return bytes
    }
}
