import Synchronization

/// A 16550A-compatible UART (the PC's COM1 at I/O 0x3F8, IRQ 4) as the Linux 8250
/// driver programs it: divisor latch, interrupt enable/identification, FIFO control,
/// line/modem control and status, scratch, and modem loopback (National
/// Semiconductor PC16550D datasheet, "Registers"). Transmitted bytes go to an output
/// sink; received bytes come from ``receive(_:)``.
public final class SerialPort: BusDevice {
    public static let com1Base: UInt64 = 0x3F8
    public static let com1Interrupt: UInt32 = 4
    public static let registerCount: UInt64 = 8

    // IER bits.
    static let ierReceivedData: UInt8 = 0x01
    static let ierTransmitterEmpty: UInt8 = 0x02
    // IIR values.
    static let iirNoInterrupt: UInt8 = 0x01
    static let iirTransmitterEmpty: UInt8 = 0x02
    static let iirReceivedData: UInt8 = 0x04
    static let iirFIFOEnabled: UInt8 = 0xC0
    // LCR / MCR / LSR / MSR bits.
    static let lcrDivisorLatch: UInt8 = 0x80
    static let mcrLoopback: UInt8 = 0x10
    static let lsrDataReady: UInt8 = 0x01
    static let lsrTransmitterIdle: UInt8 = 0x60
    static let msrIdleLines: UInt8 = 0xB0 // DCD | DSR | CTS
    static let receiveCapacity = 4096

    struct Registers {
        var interruptEnable: UInt8 = 0
        var lineControl: UInt8 = 0x03
        var modemControl: UInt8 = 0x08
        var scratch: UInt8 = 0
        var divisorLow: UInt8 = 0x0C // 9600 baud
        var divisorHigh: UInt8 = 0
        var fifoEnabled = false
        var transmitterEmptyPending = false
        var received: [UInt8] = []
        var receivedHead = 0

        var hasReceivedData: Bool { receivedHead < received.count }
        var divisorLatch: Bool { lineControl & SerialPort.lcrDivisorLatch != 0 }
        var loopback: Bool { modemControl & SerialPort.mcrLoopback != 0 }

        /// The highest-priority pending interrupt, as IIR reports it.
        var pendingInterrupt: UInt8? {
            if interruptEnable & SerialPort.ierReceivedData != 0 && hasReceivedData { return SerialPort.iirReceivedData }
            if interruptEnable & SerialPort.ierTransmitterEmpty != 0 && transmitterEmptyPending { return SerialPort.iirTransmitterEmpty }
            return nil
        }

        mutating func pushReceived(_ bytes: some Sequence<UInt8>) {
            if receivedHead > 0 && receivedHead == received.count {
                received.removeAll(keepingCapacity: true)
                receivedHead = 0
            }
            for byte in bytes where received.count - receivedHead < SerialPort.receiveCapacity {
                received.append(byte)
            }
        }

        mutating func popReceived() -> UInt8 {
            guard hasReceivedData else { return 0 }
            defer { receivedHead += 1 }
            return received[receivedHead]
        }
    }

    private let registers = Mutex(Registers())
    private let output: @Sendable (UInt8) -> Void
    private let interrupt: @Sendable () -> Void

    /// - Parameters:
    ///   - output: called with each byte the guest transmits.
    ///   - interrupt: raises the UART's (edge-triggered) interrupt line once.
    public init(output: @escaping @Sendable (UInt8) -> Void, interrupt: @escaping @Sendable () -> Void) {
        self.output = output
        self.interrupt = interrupt
    }

    /// Host input for the guest: queued for the receive buffer register.
    public func receive(_ bytes: [UInt8]) {
        let raise = registers.withLock { r -> Bool in
            let before = r.pendingInterrupt
            r.pushReceived(bytes)
            return r.pendingInterrupt != nil && r.pendingInterrupt != before
        }
        if raise { interrupt() }
    }

    public func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
        guard !data.isEmpty else { return }
        let value = registers.withLock { r -> UInt8 in
            switch offset {
            case 0:
                return r.divisorLatch ? r.divisorLow : r.popReceived()
            case 1:
                return r.divisorLatch ? r.divisorHigh : r.interruptEnable
            case 2:
                let pending = r.pendingInterrupt
                if pending == Self.iirTransmitterEmpty { r.transmitterEmptyPending = false }
                return (pending ?? Self.iirNoInterrupt) | (r.fifoEnabled ? Self.iirFIFOEnabled : 0)
            case 3:
                return r.lineControl
            case 4:
                return r.modemControl
            case 5:
                return Self.lsrTransmitterIdle | (r.hasReceivedData ? Self.lsrDataReady : 0)
            case 6:
                guard r.loopback else { return Self.msrIdleLines }
                // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
                let mcr = r.modemControl
                return ((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) | ((mcr & 0x08) << 4)
            case 7:
                return r.scratch
            default:
                return 0xFF
            }
        }
        data[0] = value
        for i in 1..<data.count { data[i] = 0 }
    }

    public func write(offset: UInt64, data: UnsafeRawBufferPointer) {
        guard let value = data.first else { return }
        var transmitted: UInt8?
        let raise = registers.withLock { r -> Bool in
            let before = r.pendingInterrupt
            switch offset {
            case 0:
                if r.divisorLatch {
                    r.divisorLow = value
                } else {
                    if r.loopback { r.pushReceived([value]) } else { transmitted = value }
                    r.transmitterEmptyPending = true
                }
            case 1:
                if r.divisorLatch {
                    r.divisorHigh = value
                } else {
                    let enablingTransmit = r.interruptEnable & Self.ierTransmitterEmpty == 0 && value & Self.ierTransmitterEmpty != 0
                    r.interruptEnable = value & 0x0F
                    if enablingTransmit { r.transmitterEmptyPending = true }
                }
            case 2:
                r.fifoEnabled = value & 0x01 != 0
                if value & 0x02 != 0 { r.received.removeAll(); r.receivedHead = 0 }
            case 3:
                r.lineControl = value
            case 4:
                r.modemControl = value & 0x1F
            case 7:
                r.scratch = value
            default:
                break
            }
            let after = r.pendingInterrupt
            return after != nil && (after != before || offset == 0)
        }
        if let transmitted { output(transmitted) }
        if raise { interrupt() }
    }
}
