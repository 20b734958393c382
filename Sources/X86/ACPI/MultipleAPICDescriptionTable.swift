/// The MADT ("APIC", ACPI 6.5, 5.2.12): one enabled Processor Local APIC per vCPU
/// (APIC id = vCPU index), the IOAPIC at ``BootLayout/ioapicAddress`` with GSI base 0,
/// and LINT1 as the NMI input of every processor.
public struct MultipleAPICDescriptionTable: Sendable {
    public static let revision: UInt8 = 5
    /// Largest vCPU count expressible with 8-bit xAPIC ids (0xFF is broadcast).
    public static let maxCPUs = 254

    public var cpuCount: Int

    public init(cpuCount: Int) {
        self.cpuCount = cpuCount
    }

    public func encoded() -> [UInt8] {
        var body: [UInt8] = []
        body.appendLittleEndian(BootLayout.localAPICAddress)
        body.appendLittleEndian(UInt32(0)) // flags: no PC-AT dual 8259 setup
        for cpu in 0..<min(cpuCount, Self.maxCPUs) {
            // Type 0, Processor Local APIC: UID, APIC id, flags = enabled.
            body += [0, 8, UInt8(cpu), UInt8(cpu)]
            body.appendLittleEndian(UInt32(1))
        }
        // Type 1, I/O APIC: id 0, address, GSI base 0.
        body += [1, 12, 0, 0]
        body.appendLittleEndian(BootLayout.ioapicAddress)
        body.appendLittleEndian(UInt32(0))
        // Type 4, Local APIC NMI: all processors (0xFF), default polarity/trigger, LINT1.
        body += [4, 6, 0xFF, 0, 0, 1]
        return ACPITableHeader.table(signature: "APIC", revision: Self.revision, body: body)
    }
}
