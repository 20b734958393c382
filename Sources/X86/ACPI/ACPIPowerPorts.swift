/// The I/O ports of the VMM's ACPI power-management device, named in the FADT: a
/// hardware-reduced platform's sleep control/status registers and reset register
/// (ACPI 6.5, 4.8.3.7 "Sleep Control and Status Registers", 4.8.3.6 "Reset Register").
public enum ACPIPowerPorts {
    public static let sleepControl: UInt16 = 0x600
    public static let sleepStatus: UInt16 = 0x601
    public static let reset: UInt16 = 0x602
    /// Written to ``reset`` to reset the machine.
    public static let resetValue: UInt8 = 0x01
    /// `SLP_TYP` of the `\_S5` (soft-off) package in the DSDT.
    public static let softOffSleepType: UInt8 = 5

    /// Sleep control register fields: `SLP_EN` (bit 5) and `SLP_TYP` (bits 4:2).
    public static let sleepEnable: UInt8 = 1 << 5

    /// Whether a byte written to ``sleepControl`` requests soft-off (S5).
    public static func isSoftOffRequest(_ value: UInt8) -> Bool {
        value & sleepEnable != 0 && (value >> 2) & 0x7 == softOffSleepType
    }
}
