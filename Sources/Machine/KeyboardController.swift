/// The i8042 keyboard controller's command/status port (0x64) and data port (0x60),
/// reduced to what a VMM needs: an always-empty, always-ready controller whose
/// "pulse reset line" command (0xFE) resets the machine — the path Linux takes with
/// `reboot=k` (Intel 8042 / IBM PC/AT Technical Reference, controller commands).
public final class KeyboardController: BusDevice {
    public static let dataPort: UInt64 = 0x60
    public static let commandPort: UInt64 = 0x64
    public static let resetCommand: UInt8 = 0xFE

    private let requestReset: @Sendable () -> Void

    public init(requestReset: @escaping @Sendable () -> Void) {
        self.requestReset = requestReset
    }

    /// Registered as one device over 0x60–0x64; offset 4 is the command port.
    public func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
        // Status 0: output buffer empty, input buffer empty. Data reads as 0.
        data.initializeMemory(as: UInt8.self, repeating: 0)
    }

    public func write(offset: UInt64, data: UnsafeRawBufferPointer) {
        if offset == Self.commandPort - Self.dataPort, data.first == Self.resetCommand {
            requestReset()
        }
    }
}
