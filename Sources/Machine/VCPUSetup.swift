import CLinux
import KVM
import X86

/// Puts one vCPU into the state the kernel's entry protocol expects: CPUID (first, as
/// newer host kernels require), boot MSRs, LAPIC virtual wire, and for the boot vCPU
/// the registers, segments, control registers and FPU of ``BootEntry``
/// (boot.rst "64-bit Boot Protocol"; the PVH ABI for 32-bit entry). Application
/// processors wait in KVM for INIT/SIPI from the boot vCPU.
enum VCPUSetup {
    static let cr0ProtectionEnable: UInt64 = 1 << 0
    static let cr0ExtensionType: UInt64 = 1 << 4
    static let cr0Paging: UInt64 = 1 << 31
    static let cr4PhysicalAddressExtension: UInt64 = 1 << 5
    static let eferLongModeEnable: UInt64 = 1 << 8
    static let eferLongModeActive: UInt64 = 1 << 10
    /// x87 control word and MXCSR after FNINIT / reset.
    static let fpuControlWord: UInt16 = 0x37F
    static let mxcsrDefault: UInt32 = 0x1F80

    static func configure(_ vcpu: VirtualCPU, cpuid: [CPUIDEntry], entry: BootEntry?) throws {
        try vcpu.setCPUID(cpuid.map(kvmEntry))
        try vcpu.setModelSpecificRegisters(BootMSRs.entries)
        var lapic = try vcpu.localAPIC()
        withUnsafeMutableBytes(of: &lapic.regs) { raw in
            var page = Array(raw)
            LocalAPICRegisters.configureVirtualWire(&page)
            raw.copyBytes(from: page)
        }
        try vcpu.setLocalAPIC(lapic)
        guard let entry else { return }

        var fpu = kvm_fpu()
        fpu.fcw = fpuControlWord
        fpu.mxcsr = mxcsrDefault
        try vcpu.setFloatingPointState(fpu)

        var sregs = try vcpu.specialRegisters()
        let gdt: BootGDT = entry.mode == .longMode ? .longMode : .protectedMode
        sregs.gdt.base = BootLayout.gdtAddress
        sregs.gdt.limit = gdt.limit
        sregs.idt.base = BootLayout.idtAddress
        sregs.idt.limit = 0
        sregs.cs = segment(gdt.code, selector: BootGDT.codeSelector)
        let data = segment(gdt.data, selector: BootGDT.dataSelector)
        (sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss) = (data, data, data, data, data)
        sregs.tr = segment(gdt.tss, selector: BootGDT.tssSelector)
        switch entry.mode {
        case .longMode:
            sregs.cr0 = cr0ProtectionEnable | cr0ExtensionType | cr0Paging
            sregs.cr3 = IdentityPageTables().pml4Address
            sregs.cr4 = cr4PhysicalAddressExtension
            sregs.efer = eferLongModeEnable | eferLongModeActive
        case .protectedMode:
            sregs.cr0 = cr0ProtectionEnable | cr0ExtensionType
            sregs.cr3 = 0
            sregs.cr4 = 0
            sregs.efer = 0
        }
        try vcpu.setSpecialRegisters(sregs)

        var regs = kvm_regs()
        regs.rflags = 0x2
        regs.rip = entry.instructionPointer
        switch entry.mode {
        case .longMode:
            regs.rsi = entry.bootInfoAddress
            regs.rsp = BootLayout.bootStackPointer
            regs.rbp = BootLayout.bootStackPointer
        case .protectedMode:
            regs.rbx = entry.bootInfoAddress
        }
        try vcpu.setRegisters(regs)
    }

    static func segment(_ descriptor: SegmentDescriptor, selector: UInt16) -> kvm_segment {
        var s = kvm_segment()
        s.base = UInt64(descriptor.base)
        s.limit = descriptor.byteLimit
        s.selector = selector
        s.type = descriptor.type
        s.present = descriptor.isPresent ? 1 : 0
        s.dpl = descriptor.privilegeLevel
        s.db = descriptor.isDefault32 ? 1 : 0
        s.s = descriptor.isSystem ? 0 : 1
        s.l = descriptor.isLongMode ? 1 : 0
        s.g = descriptor.granularity ? 1 : 0
        return s
    }

    static func kvmEntry(_ e: CPUIDEntry) -> kvm_cpuid_entry2 {
        var k = kvm_cpuid_entry2()
        k.function = e.function
        k.index = e.index
        k.flags = e.flags
        k.eax = e.eax
        k.ebx = e.ebx
        k.ecx = e.ecx
        k.edx = e.edx
        return k
    }

    static func cpuidEntry(_ k: kvm_cpuid_entry2) -> CPUIDEntry {
        CPUIDEntry(function: k.function, index: k.index, flags: k.flags, eax: k.eax, ebx: k.ebx, ecx: k.ecx, edx: k.edx)
    }
}
