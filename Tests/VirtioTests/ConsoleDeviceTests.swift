import Synchronization
import Testing
@testable import Virtio

/// virtio-console transmit and receive queues (virtio 1.2 §5.3.6).
@Suite struct ConsoleDeviceTests {
    final class Output: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    @Test func transmitQueueReachesTheOutput() throws {
        let ram = FakeRAM()
        let output = Output()
        let device = ConsoleDevice(output: { bytes in output.bytes.withLock { $0 += bytes } })
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        ram.put(bytes: Array("hello ".utf8), at: 0x10000)
        ram.put(bytes: Array("hvc0".utf8), at: 0x11000)
        driver.add(readable: [(0x10000, 6), (0x11000, 4)], writable: [])
        #expect(try device.process(queue: &queue, index: ConsoleDevice.transmitQueue, memory: ram))
        #expect(output.bytes.withLock { $0 } == Array("hello hvc0".utf8))
        #expect(driver.usedIndex == 1)
    }

    @Test func inputWaitsForReceiveBuffersAndSplitsAcrossThem() throws {
        let ram = FakeRAM()
        let device = ConsoleDevice(output: { _ in })
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        device.receive(Array("abcdef".utf8))
        #expect(try device.process(queue: &queue, index: ConsoleDevice.receiveQueue, memory: ram) == false)
        driver.add(readable: [], writable: [(0x20000, 4)])
        driver.add(readable: [], writable: [(0x21000, 4)])
        driver.add(readable: [], writable: [(0x22000, 4)])
        #expect(try device.process(queue: &queue, index: ConsoleDevice.receiveQueue, memory: ram))
        #expect(ram.get(count: 4, at: 0x20000) == Array("abcd".utf8))
        #expect(ram.get(count: 2, at: 0x21000) == Array("ef".utf8))
        #expect(driver.usedIndex == 2, "the third buffer stays with the device for later input")
        #expect(driver.usedElement(1).length == 2)
    }
}
