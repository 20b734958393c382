/// The FADT ("FACP"), revision 6 (ACPI 6.5, 5.2.9): hardware-reduced, pointing at
/// the DSDT, with the sleep control/status registers and reset register of
/// ``ACPIPowerPorts`` so an OS can power off and reset the machine without legacy
/// PM1 blocks.
public struct FixedACPIDescriptionTable: Sendable {
    public static let length = 276
    public static let revision: UInt8 = 6
    public static let minorRevision: UInt8 = 5

    /// FADT flags (5.2.9, Table 5.10).
    public static let resetRegisterSupported: UInt32 = 1 << 10
    public static let hardwareReducedACPI: UInt32 = 1 << 20
    /// IA-PC boot architecture flags (5.2.9.3): no VGA, no CMOS RTC; no 8042 is
    /// claimed, so the OS does not probe a keyboard controller at boot.
    public static let bootArchitectureFlags: UInt16 = (1 << 2) | (1 << 5)

    /// Field offsets within the table.
    public enum Offset {
        public static let bootArchitecture = 109
        public static let flags = 112
        public static let resetRegister = 116
        public static let resetValue = 128
        public static let minorRevision = 131
        public static let extendedDSDT = 140
        public static let sleepControl = 244
        public static let sleepStatus = 256
        public static let hypervisorVendor = 268
    }

    public var dsdtAddress: UInt64

    public init(dsdtAddress: UInt64) {
        self.dsdtAddress = dsdtAddress
    }

    public func encoded() -> [UInt8] {
        var body = [UInt8](repeating: 0, count: Self.length - ACPITableHeader.size)
        func put(_ bytes: [UInt8], at offset: Int) {
            body.replaceSubrange(offset - ACPITableHeader.size..<offset - ACPITableHeader.size + bytes.count, with: bytes)
        }
        var scratch: [UInt8] = []
        scratch.appendLittleEndian(Self.bootArchitectureFlags)
        put(scratch, at: Offset.bootArchitecture)
        scratch = []
        scratch.appendLittleEndian(Self.hardwareReducedACPI | Self.resetRegisterSupported)
        put(scratch, at: Offset.flags)
        put(GenericAddress.ioPort(ACPIPowerPorts.reset).encoded, at: Offset.resetRegister)
        put([ACPIPowerPorts.resetValue], at: Offset.resetValue)
        put([Self.minorRevision], at: Offset.minorRevision)
        scratch = []
        scratch.appendLittleEndian(dsdtAddress)
        put(scratch, at: Offset.extendedDSDT)
        put(GenericAddress.ioPort(ACPIPowerPorts.sleepControl).encoded, at: Offset.sleepControl)
        put(GenericAddress.ioPort(ACPIPowerPorts.sleepStatus).encoded, at: Offset.sleepStatus)
        put(Array("SWIFTLET".utf8), at: Offset.hypervisorVendor)
        return ACPITableHeader.table(signature: "FACP", revision: Self.revision, body: body)
    }
}
