import X86

/// The ACPI power-management registers the FADT points to (``X86/ACPIPowerPorts``):
/// a write of `SLP_TYP=S5 | SLP_EN` to the sleep control register powers the machine
/// off; the reset value written to the reset register resets it (ACPI 6.5, 4.8.3.6
/// and 4.8.3.7). Registered over the three consecutive ports.
public final class ACPIPowerDevice: BusDevice {
    private let powerOff: @Sendable () -> Void
    private let reset: @Sendable () -> Void

    public init(powerOff: @escaping @Sendable () -> Void, reset: @escaping @Sendable () -> Void) {
        self.powerOff = powerOff
        self.reset = reset
    }

    public func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
        // Sleep status: WAK_STS clear; control and reset registers read as 0.
        data.initializeMemory(as: UInt8.self, repeating: 0)
    }

    public func write(offset: UInt64, data: UnsafeRawBufferPointer) {
        guard let value = data.first else { return }
        switch offset {
        case UInt64(ACPIPowerPorts.sleepControl - ACPIPowerPorts.sleepControl):
            if ACPIPowerPorts.isSoftOffRequest(value) { powerOff() }
        case UInt64(ACPIPowerPorts.reset - ACPIPowerPorts.sleepControl):
            if value == ACPIPowerPorts.resetValue { reset() }
        default:
            break
        }
    }
}
