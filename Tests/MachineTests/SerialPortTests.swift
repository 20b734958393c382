import Synchronization
import Testing
@testable import Machine

@Suite struct SerialPortTests {
    final class Probe: Sendable {
        let output = Mutex<[UInt8]>([])
        let interrupts = Mutex(0)
    }

    func makePort() -> (SerialPort, Probe) {
        let probe = Probe()
        let port = SerialPort(output: { byte in probe.output.withLock { $0.append(byte) } },
                              interrupt: { probe.interrupts.withLock { $0 += 1 } })
        return (port, probe)
    }

    func read(_ port: SerialPort, _ offset: UInt64) -> UInt8 {
        var value: [UInt8] = [0]
        value.withUnsafeMutableBytes { port.read(offset: offset, data: $0) }
        return value[0]
    }

    func write(_ port: SerialPort, _ offset: UInt64, _ value: UInt8) {
        [value].withUnsafeBytes { port.write(offset: offset, data: $0) }
    }

    @Test func transmitsToTheOutputAndReportsAnIdleTransmitter() {
        let (port, probe) = makePort()
        write(port, 0, UInt8(ascii: "h"))
        write(port, 0, UInt8(ascii: "i"))
        #expect(probe.output.withLock { $0 } == Array("hi".utf8))
        #expect(read(port, 5) & 0x60 == 0x60)
        #expect(read(port, 2) & 0x0F == 0x01)
        #expect(probe.interrupts.withLock { $0 } == 0)
    }

    @Test func divisorLatchSwitchesRegistersZeroAndOne() {
        let (port, probe) = makePort()
        write(port, 3, 0x80)
        write(port, 0, 0x01)
        write(port, 1, 0x00)
        #expect(read(port, 0) == 0x01)
        write(port, 3, 0x03)
        #expect(read(port, 3) == 0x03)
        #expect(probe.output.withLock { $0 }.isEmpty)
    }

    @Test func transmitterEmptyInterruptIsRaisedAndClearedByReadingIIR() {
        let (port, probe) = makePort()
        write(port, 1, 0x02)
        #expect(probe.interrupts.withLock { $0 } == 1)
        #expect(read(port, 2) & 0x0F == 0x02)
        #expect(read(port, 2) & 0x0F == 0x01)
        write(port, 0, 0x41)
        #expect(probe.interrupts.withLock { $0 } == 2)
        #expect(read(port, 2) & 0x0F == 0x02)
    }

    @Test func receivedBytesSetDataReadyAndInterruptWhenEnabled() {
        let (port, probe) = makePort()
        write(port, 1, 0x01)
        port.receive([0x61, 0x62])
        #expect(probe.interrupts.withLock { $0 } == 1)
        #expect(read(port, 5) & 0x01 == 0x01)
        #expect(read(port, 2) & 0x0F == 0x04)
        #expect(read(port, 0) == 0x61)
        #expect(read(port, 0) == 0x62)
        #expect(read(port, 5) & 0x01 == 0)
        #expect(read(port, 2) & 0x0F == 0x01)
    }

    @Test func loopbackModeEchoesAndMirrorsModemLines() {
        let (port, probe) = makePort()
        write(port, 4, 0x10 | 0x0A)          // LOOP | RTS | OUT2, as the 8250 probe does
        #expect(read(port, 6) & 0xF0 == 0x90) // CTS | DCD
        write(port, 0, 0x55)
        #expect(probe.output.withLock { $0 }.isEmpty)
        #expect(read(port, 0) == 0x55)
        write(port, 4, 0x08)
        #expect(read(port, 6) == 0xB0)
    }

    @Test func fifoControlShowsInIIRAndScratchHoldsItsValue() {
        let (port, _) = makePort()
        write(port, 2, 0x07)
        #expect(read(port, 2) & 0xC0 == 0xC0)
        write(port, 7, 0x5A)
        #expect(read(port, 7) == 0x5A)
        write(port, 1, 0xFF)
        #expect(read(port, 1) == 0x0F)
    }
}
