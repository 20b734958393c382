import KVM
import X86
import VMLaunch

/// Where and in which CPU mode the boot vCPU starts.
public struct BootEntry: Equatable, Sendable {
    public enum Mode: Equatable, Sendable {
        /// Linux 64-bit boot protocol: long mode, paging on, `rsi` = zero page.
        case longMode
        /// PVH: 32-bit protected mode, paging off, `rbx` = `hvm_start_info`.
        case protectedMode
    }

    public var mode: Mode
    public var instructionPointer: UInt64
    /// The zero page (long mode) or start-info (PVH) address.
    public var bootInfoAddress: UInt64
}

/// Loads a kernel, initrd and command line into guest memory and writes the boot
/// structures the entry protocol needs: for a bzImage the Linux 64-bit boot protocol
/// (boot.rst), for an ELF vmlinux the PVH boot ABI. Both get the same ACPI tables,
/// e820 map and GDT.
public struct KernelLoader {
    public var memory: GuestMemory
    public var acpi: ACPITables

    public init(memory: GuestMemory, acpi: ACPITables) {
        self.memory = memory
        self.acpi = acpi
    }

    /// Writes everything and returns the entry state for the boot vCPU.
    public func load(kernel: [UInt8], initrdPath: String?, commandLine: String) throws -> BootEntry {
        let rsdp = acpi.rsdpAddress
        try memory.write(acpi.encoded(), at: BootLayout.acpiAddress)
        let e820 = E820Map(memorySize: memory.size)
        if ELFKernel.isELF(kernel) {
            let elf: ELFKernel
            do { elf = try ELFKernel(image: kernel) } catch { throw ConfigurationError("kernel: \(error)") }
            var kernelEnd = BootLayout.kernelAddress
            for segment in elf.segments {
                let end = segment.physicalAddress.addingReportingOverflow(segment.memorySize)
                guard !end.overflow, memory.contains(segment.physicalAddress, length: segment.memorySize) else {
                    throw ConfigurationError("kernel: ELF segment at 0x\(String(segment.physicalAddress, radix: 16)) (\(segment.memorySize) bytes) does not fit in \(MemorySize(bytes: memory.size)) of memory")
                }
                try memory.write(contentsOf: kernel[segment.fileOffset..<segment.fileOffset + segment.fileSize], at: segment.physicalAddress)
                try memory.fill(0, at: segment.physicalAddress + UInt64(segment.fileSize),
                                length: segment.memorySize - UInt64(segment.fileSize))
                kernelEnd = max(kernelEnd, end.partialValue)
            }
            let initrd = try loadInitrd(initrdPath, above: kernelEnd, below: lowRAMEnd)
            try writeCommandLine(commandLine, limit: BootLayout.commandLineCapacity - 1)
            let map = e820.pvhMemoryMapBytes
            let info = HVMStartInfo(commandLineAddress: BootLayout.commandLineAddress, rsdpAddress: rsdp,
                                    memoryMapAddress: BootLayout.memoryMapAddress, memoryMapEntries: e820.entries.count,
                                    moduleListAddress: BootLayout.moduleListAddress, initrd: initrd)
            try memory.write(info.encoded(), at: BootLayout.startInfoAddress)
            try memory.write(info.encodedModuleList(), at: BootLayout.moduleListAddress)
            try memory.write(map, at: BootLayout.memoryMapAddress)
            try memory.write(BootGDT.protectedMode.encoded(), at: BootLayout.gdtAddress)
            return BootEntry(mode: .protectedMode, instructionPointer: UInt64(elf.pvhEntry),
                             bootInfoAddress: BootLayout.startInfoAddress)
        }

        let header: SetupHeader
        do { header = try SetupHeader(image: kernel) } catch { throw ConfigurationError("kernel: \(error)") }
        let payload = kernel[header.protectedModeOffset...]
        let kernelEnd = BootLayout.kernelAddress + max(UInt64(payload.count), UInt64(header.initSize))
        guard kernelEnd <= lowRAMEnd else {
            throw ConfigurationError("kernel: needs \(kernelEnd - BootLayout.kernelAddress) bytes at 1 MiB, more than \(MemorySize(bytes: memory.size)) of memory")
        }
        try memory.write(contentsOf: payload, at: BootLayout.kernelAddress)
        let initrdLimit = min(lowRAMEnd, UInt64(header.initrdAddressMax) + 1)
        let initrd = try loadInitrd(initrdPath, above: kernelEnd, below: initrdLimit)
        let limit = header.commandLineSize == 0 ? 255 : Int(header.commandLineSize)
        try writeCommandLine(commandLine, limit: min(limit, BootLayout.commandLineCapacity - 1))
        let params = BootParams(header: header, commandLineAddress: BootLayout.commandLineAddress,
                                initrd: initrd, rsdpAddress: rsdp, e820: e820)
        try memory.write(params.encoded(), at: BootLayout.zeroPageAddress)
        try memory.write(BootGDT.longMode.encoded(), at: BootLayout.gdtAddress)
        try memory.write([UInt8](repeating: 0, count: 8), at: BootLayout.idtAddress)
        try memory.write(IdentityPageTables().encoded(), at: BootLayout.pageTablesAddress)
        return BootEntry(mode: .longMode, instructionPointer: BootLayout.kernelAddress + SetupHeader.entry64Offset,
                         bootInfoAddress: BootLayout.zeroPageAddress)
    }

    /// End of the RAM below the MMIO hole.
    var lowRAMEnd: UInt64 { min(memory.size, BootLayout.mmioHoleStart) }

    /// Reads the initrd straight into guest RAM at the highest page-aligned address
    /// that ends at or below `below` and starts at or above `above`.
    func loadInitrd(_ path: String?, above: UInt64, below: UInt64) throws -> (address: UInt64, size: UInt64)? {
        guard let path else { return nil }
        let file: HostFile
        do { file = try HostFile(path: path) } catch { throw ConfigurationError("initrd: \(error)") }
        let size = file.size
        let alignedAbove = (above + 0xFFF) & ~0xFFF
        guard size > 0, size <= below, (below - size) & ~0xFFF >= alignedAbove else {
            throw ConfigurationError("initrd \(path) (\(size) bytes) does not fit in \(MemorySize(bytes: memory.size)) of memory next to the kernel")
        }
        let address = (below - size) & ~0xFFF
        try file.read(into: memory.buffer(at: address, length: size))
        return (address, size)
    }

    func writeCommandLine(_ commandLine: String, limit: Int) throws {
        let bytes = Array(commandLine.utf8)
        guard bytes.count <= limit else {
            throw ConfigurationError("command line is \(bytes.count) bytes; this kernel accepts at most \(limit)")
        }
        try memory.write(bytes + [0], at: BootLayout.commandLineAddress)
    }
}
