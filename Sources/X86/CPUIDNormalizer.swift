/// One CPUID leaf/subleaf as KVM presents it (`struct kvm_cpuid_entry2`, without
/// the kernel padding): what `cpuid` returns for `function`/`index`.
public struct CPUIDEntry: Equatable, Sendable {
    /// `KVM_CPUID_FLAG_SIGNIFCANT_INDEX`: the subleaf (`index`) selects the entry.
    public static let significantIndex: UInt32 = 1

    public var function: UInt32
    public var index: UInt32
    public var flags: UInt32
    public var eax: UInt32
    public var ebx: UInt32
    public var ecx: UInt32
    public var edx: UInt32

    public init(function: UInt32, index: UInt32 = 0, flags: UInt32 = 0,
                eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0) {
        self.function = function
        self.index = index
        self.flags = flags
        self.eax = eax
        self.ebx = ebx
        self.ecx = ecx
        self.edx = edx
    }
}

/// Turns the host's `KVM_GET_SUPPORTED_CPUID` list into what one vCPU of an
/// N-vCPU guest should see: its own APIC id, a flat one-thread-per-core, one-package
/// topology, the hypervisor bit, and KVM's paravirtual signature leaves
/// (Intel SDM Vol. 2A "CPUID"; AMD APM Vol. 3 appendix E; Linux
/// Documentation/virt/kvm/x86/cpuid.rst for 0x40000000/0x40000001).
public struct CPUIDNormalizer: Sendable {
    /// `CPUID.1:ECX[31]`, "running under a hypervisor".
    public static let hypervisorBit: UInt32 = 1 << 31
    /// `CPUID.1:EDX[28]`, HTT: the package has more than one logical processor.
    public static let hyperThreadingBit: UInt32 = 1 << 28
    /// "KVMKVMKVM\0\0\0" as EBX, ECX, EDX.
    public static let kvmSignature: (UInt32, UInt32, UInt32) = (0x4B4D_564B, 0x564B_4D56, 0x0000_004D)

    public var supported: [CPUIDEntry]
    public var cpuCount: Int

    public init(supported: [CPUIDEntry], cpuCount: Int) {
        self.supported = supported
        self.cpuCount = max(1, cpuCount)
    }

    /// Bits needed to number `cpuCount` cores in an APIC id.
    var coreIDWidth: UInt32 {
        var width: UInt32 = 0
        while (1 << width) < cpuCount { width += 1 }
        return width
    }

    /// The CPUID table for the vCPU whose APIC id is `apicID`.
    public func entries(apicID: UInt32) -> [CPUIDEntry] {
        var result: [CPUIDEntry] = []
        var hasHypervisorLeaf = false
        for var entry in supported {
            switch entry.function {
            case 0x1:
                entry.ebx = (entry.ebx & 0x0000_00FF) | (8 << 8) | (UInt32(cpuCount & 0xFF) << 16) | (apicID << 24)
                entry.ecx |= Self.hypervisorBit
                if cpuCount > 1 { entry.edx |= Self.hyperThreadingBit } else { entry.edx &= ~Self.hyperThreadingBit }
            case 0x4:
                // EAX[31:26]: cores per package - 1; EAX[25:14]: threads sharing this cache - 1.
                entry.eax = (entry.eax & 0x0000_3FFF) | (UInt32(cpuCount - 1) << 26)
            case 0xB, 0x1F:
                entry = topologyLeaf(function: entry.function, subleaf: entry.index, apicID: apicID)
            case 0x4000_0000:
                hasHypervisorLeaf = true
                entry.eax = max(entry.eax, 0x4000_0001)
                (entry.ebx, entry.ecx, entry.edx) = Self.kvmSignature
            case 0x8000_0008:
                // AMD: ECX[15:12] APIC id size, ECX[7:0] number of cores - 1.
                entry.ecx = (entry.ecx & ~0xF0FF) | (coreIDWidth << 12) | UInt32(cpuCount - 1)
            default:
                break
            }
            result.append(entry)
        }
        if !hasHypervisorLeaf {
            let (b, c, d) = Self.kvmSignature
            result.append(CPUIDEntry(function: 0x4000_0000, eax: 0x4000_0001, ebx: b, ecx: c, edx: d))
            result.append(CPUIDEntry(function: 0x4000_0001))
        }
        return result
    }

    /// Extended topology (leaf 0xB / 0x1F) subleaf: 0 = SMT level (one thread per
    /// core), 1 = core level (all vCPUs in one package), then the invalid level.
    func topologyLeaf(function: UInt32, subleaf: UInt32, apicID: UInt32) -> CPUIDEntry {
        var entry = CPUIDEntry(function: function, index: subleaf, flags: Self.significantIndexFlag, edx: apicID)
        switch subleaf {
        case 0:
            entry.eax = 0
            entry.ebx = 1
            entry.ecx = (1 << 8) | subleaf
        case 1:
            entry.eax = coreIDWidth
            entry.ebx = UInt32(cpuCount)
            entry.ecx = (2 << 8) | subleaf
        default:
            entry.ecx = subleaf
        }
        return entry
    }

    static let significantIndexFlag = CPUIDEntry.significantIndex
}
