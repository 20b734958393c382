/// The local APIC register page (`kvm_lapic_state.regs`, Intel SDM Vol. 3A 11.4.1
/// "The Local APIC Block Diagram", register offsets) and the virtual-wire setup a
/// BIOS leaves for the boot CPU: LINT0 delivers ExtINT from the PIC, LINT1 delivers NMI.
public enum LocalAPICRegisters {
    public static let lvtLINT0Offset = 0x350
    public static let lvtLINT1Offset = 0x360
    /// LVT delivery-mode field, bits 10:8.
    static let deliveryModeMask: UInt32 = 0x700
    public static let deliveryModeExtINT: UInt32 = 0x7 << 8
    public static let deliveryModeNMI: UInt32 = 0x4 << 8

    /// Rewrites LINT0 to ExtINT and LINT1 to NMI in a 1 KiB register page, keeping
    /// the other LVT bits.
    public static func configureVirtualWire(_ page: inout [UInt8]) {
        guard page.count >= 0x400 else { return }
        for (offset, mode) in [(lvtLINT0Offset, deliveryModeExtINT), (lvtLINT1Offset, deliveryModeNMI)] {
            let value = page.littleEndian(UInt32.self, at: offset) ?? 0
            page.setLittleEndian((value & ~deliveryModeMask) | mode, at: offset)
        }
    }
}
