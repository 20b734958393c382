#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Virtio

/// Register-level driver steps over an ``MMIOTransport`` (virtio 1.2 §4.2.3).
extension MMIOTransport {
    func set(_ offset: UInt64, _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { write(offset: offset, data: $0) }
    }

    func get(_ offset: UInt64) -> UInt32 {
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { read(offset: offset, data: $0) }
        return UInt32(littleEndian: value)
    }

    /// §3.1.1 initialization with `features`, queue 0 at ``FakeDriver``'s addresses.
    func initialize(features: UInt64, queueSize: UInt32 = 16) {
        set(0x070, 0)
        set(0x070, Status.acknowledge | Status.driver)
        set(0x024, 0); set(0x020, UInt32(truncatingIfNeeded: features))
        set(0x024, 1); set(0x020, UInt32(truncatingIfNeeded: features >> 32))
        set(0x070, Status.acknowledge | Status.driver | Status.featuresOK)
        set(0x030, 0)
        set(0x038, queueSize)
        set(0x080, UInt32(FakeDriver.descriptors)); set(0x084, 0)
        set(0x090, UInt32(FakeDriver.available)); set(0x094, 0)
        set(0x0A0, UInt32(FakeDriver.used)); set(0x0A4, 0)
        set(0x044, 1)
        set(0x070, Status.acknowledge | Status.driver | Status.featuresOK | Status.driverOK)
    }
}

final class InterruptCounter: Sendable {
    let count = Mutex(0)
    func fire() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

@Suite struct TransportTests {
    @Test func identificationRegisters() throws {
        let transport = try MMIOTransport(device: EntropyDevice(), memory: FakeRAM(), interrupt: {})
        #expect(transport.get(0x000) == 0x7472_6976)
        #expect(transport.get(0x004) == 2)
        #expect(transport.get(0x008) == 4)
        transport.set(0x014, 1)
        #expect(transport.get(0x010) == 1, "VIRTIO_F_VERSION_1 is offered")
        transport.set(0x030, 0)
        #expect(transport.get(0x034) == UInt32(EntropyDevice.queueSize))
        transport.set(0x030, 5)
        #expect(transport.get(0x034) == 0, "a queue that does not exist has size 0")
    }

    @Test func featuresOKNeedsVersion1AndOfferedBits() throws {
        let transport = try MMIOTransport(device: EntropyDevice(), memory: FakeRAM(), interrupt: {})
        transport.initialize(features: 0)
        #expect(transport.get(0x070) & MMIOTransport.Status.featuresOK == 0)
        transport.initialize(features: TransportFeature.version1 | 1 << 40)
        #expect(transport.get(0x070) & MMIOTransport.Status.featuresOK == 0)
        transport.initialize(features: TransportFeature.version1 | TransportFeature.eventIndex)
        #expect(transport.get(0x070) & MMIOTransport.Status.featuresOK != 0)
    }

    @Test func entropyFillsWritableBuffersAndInterrupts() throws {
        let ram = FakeRAM()
        let interrupts = InterruptCounter()
        let transport = try MMIOTransport(device: EntropyDevice(), memory: ram, interrupt: { interrupts.fire() })
        transport.initialize(features: TransportFeature.version1)
        var driver = FakeDriver(ram: ram)
        driver.add(readable: [], writable: [(0x20000, 64)])
        transport.set(MMIOTransport.queueNotifyOffset, 0)
        transport.processQueue(0)
        #expect(driver.usedIndex == 1)
        #expect(driver.usedElement(0).length == 64)
        #expect(ram.get(count: 64, at: 0x20000) != [UInt8](repeating: 0, count: 64))
        #expect(interrupts.value == 1)
        #expect(transport.get(0x060) == 1)
        transport.set(0x064, 1)
        #expect(transport.get(0x060) == 0)
    }

    @Test func hostileChainSetsNeedsResetAndResetRecovers() throws {
        let ram = FakeRAM()
        let interrupts = InterruptCounter()
        let transport = try MMIOTransport(device: EntropyDevice(), memory: ram, interrupt: { interrupts.fire() })
        transport.initialize(features: TransportFeature.version1)
        var driver = FakeDriver(ram: ram)
        driver.setDescriptor(0, address: 0x10000, length: 8, flags: DescriptorChain.flagNext | DescriptorChain.flagWrite, next: 0)
        driver.publish(head: 0)
        transport.processQueue(0)
        #expect(transport.get(0x070) & MMIOTransport.Status.needsReset != 0)
        #expect(transport.failure == .chainTooLong(limit: 16))
        #expect(transport.get(0x060) & 2 != 0, "config-change interrupt announces NEEDS_RESET")
        #expect(interrupts.value == 1)
        transport.processQueue(0)
        #expect(interrupts.value == 1, "a broken device does no further work")
        ram.base.initializeMemory(as: UInt8.self, repeating: 0)
        transport.initialize(features: TransportFeature.version1)
        #expect(transport.get(0x070) & MMIOTransport.Status.needsReset == 0)
    }

    @Test func queueOutsideMemoryIsRefused() throws {
        let transport = try MMIOTransport(device: EntropyDevice(), memory: FakeRAM(size: 0x2000), interrupt: {})
        transport.initialize(features: TransportFeature.version1)
        #expect(transport.get(0x044) == 0)
        #expect(transport.get(0x070) & MMIOTransport.Status.needsReset != 0)
    }

    @Test func notifyWriteSignalsTheQueueEventFD() throws {
        let transport = try MMIOTransport(device: EntropyDevice(), memory: FakeRAM(), interrupt: {})
        transport.set(MMIOTransport.queueNotifyOffset, 0)
        transport.set(MMIOTransport.queueNotifyOffset, 7)
        var counter: UInt64 = 0
        #expect(read(transport.queueEventFDs[0], &counter, 8) == 8 && counter == 1)
    }
}
