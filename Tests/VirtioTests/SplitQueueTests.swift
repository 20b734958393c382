import Testing
@testable import Virtio

/// Split virtqueue handling (virtio 1.2 §2.7) over fake guest memory, hostile chains included.
@Suite struct SplitQueueTests {
    @Test func directChainSplitsReadableAndWritable() throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        driver.add(readable: [(0x10000, 16), (0x10100, 512)], writable: [(0x20000, 1)])
        let chain = try #require(try queue.next(memory: ram))
        #expect(chain.head == 0)
        #expect(chain.readable == [BufferSegment(address: 0x10000, length: 16), BufferSegment(address: 0x10100, length: 512)])
        #expect(chain.writable == [BufferSegment(address: 0x20000, length: 1)])
        #expect(try queue.next(memory: ram) == nil)
        try queue.addUsed(head: chain.head, length: 1, memory: ram)
        #expect(driver.usedIndex == 1)
        #expect(driver.usedElement(0).id == 0 && driver.usedElement(0).length == 1)
    }

    @Test func indirectTableIsFollowed() throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        let table: UInt64 = 0x8000
        driver.setDescriptor(0, address: 0x10000, length: 16, flags: DescriptorChain.flagNext, next: 1, table: table)
        driver.setDescriptor(1, address: 0x20000, length: 4096, flags: DescriptorChain.flagWrite, table: table)
        driver.setDescriptor(3, address: table, length: 32, flags: DescriptorChain.flagIndirect)
        driver.publish(head: 3)
        let chain = try #require(try queue.next(memory: ram))
        #expect(chain.head == 3)
        #expect(chain.readableLength == 16 && chain.writableLength == 4096)
    }

    @Test func bytesSpanSegments() throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        ram.put(bytes: [1, 2, 3], at: 0x10000)
        ram.put(bytes: [4, 5], at: 0x11000)
        driver.add(readable: [(0x10000, 3), (0x11000, 2)], writable: [(0x20000, 2), (0x21000, 4)])
        let chain = try #require(try queue.next(memory: ram))
        #expect(try chain.readBytes(offset: 1, count: 10, memory: ram) == [2, 3, 4, 5])
        #expect(try chain.writeBytes([9, 8, 7, 6, 5, 4, 3], offset: 1, memory: ram) == 5)
        #expect(ram.get(count: 2, at: 0x20000) == [0, 9])
        #expect(ram.get(count: 4, at: 0x21000) == [8, 7, 6, 5])
    }

    /// Each hostile chain is rejected with the matching error instead of being followed.
    @Test(arguments: ["loop", "index", "address", "overflow", "order", "nested", "indirectLength", "indirectNext", "tooLong"])
    func hostileChainIsRejected(kind: String) throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram, size: 8)
        var queue = try driver.queue()
        let next = DescriptorChain.flagNext, write = DescriptorChain.flagWrite, indirect = DescriptorChain.flagIndirect
        let expected: VirtioError
        switch kind {
        case "loop":
            driver.setDescriptor(0, address: 0x10000, length: 8, flags: next, next: 1)
            driver.setDescriptor(1, address: 0x10000, length: 8, flags: next, next: 0)
            expected = .chainTooLong(limit: 8)
        case "index":
            driver.setDescriptor(0, address: 0x10000, length: 8, flags: next, next: 200)
            expected = .descriptorIndex(200, tableSize: 8)
        case "address":
            driver.setDescriptor(0, address: 0xFFFF0, length: 0x100, flags: 0)
            expected = .outsideGuestMemory(address: 0xFFFF0, length: 0x100)
        case "overflow":
            driver.setDescriptor(0, address: UInt64.max - 4, length: 16, flags: write)
            expected = .outsideGuestMemory(address: UInt64.max - 4, length: 16)
        case "order":
            driver.setDescriptor(0, address: 0x10000, length: 8, flags: next | write, next: 1)
            driver.setDescriptor(1, address: 0x11000, length: 8, flags: 0)
            expected = .readableAfterWritable
        case "nested":
            driver.setDescriptor(0, address: 0x8000, length: 16, flags: indirect)
            driver.setDescriptor(0, address: 0x8000, length: 16, flags: indirect, table: 0x8000)
            expected = .badIndirectTable("indirect descriptor inside an indirect table")
        case "indirectLength":
            driver.setDescriptor(0, address: 0x8000, length: 17, flags: indirect)
            expected = .badIndirectTable("length 17 is not 1...8 descriptors")
        case "indirectNext":
            driver.setDescriptor(0, address: 0x8000, length: 16, flags: indirect | next, next: 1)
            expected = .badIndirectTable("indirect descriptor must be a chain's only descriptor")
        default:
            driver.setDescriptor(0, address: 0x8000, length: 16 * 8, flags: indirect)
            for i in UInt16(0)..<8 {
                driver.setDescriptor(i, address: 0x10000, length: 8, flags: next, next: i + 1, table: 0x8000)
            }
            expected = .descriptorIndex(8, tableSize: 8)
        }
        driver.publish(head: 0)
        #expect(throws: expected) { try queue.next(memory: ram) }
    }

    @Test func availableIndexRunningAheadIsRejected() throws {
        let ram = FakeRAM()
        let driver = FakeDriver(ram: ram, size: 8)
        var queue = try driver.queue()
        ram.put(UInt16(9), at: FakeDriver.available + 2)
        #expect(throws: VirtioError.availableIndexJump(from: 0, to: 9, queueSize: 8)) { try queue.next(memory: ram) }
    }

    @Test func badLayoutsAreRefused() {
        let ram = FakeRAM()
        #expect(throws: VirtioError.self) {
            try SplitQueue(size: 6, maximumSize: 256, descriptorTable: 0x1000, availableRing: 0x3000, usedRing: 0x4000, eventIndex: false, memory: ram)
        }
        #expect(throws: VirtioError.self) {
            try SplitQueue(size: 8, maximumSize: 256, descriptorTable: 0x1008, availableRing: 0x3000, usedRing: 0x4000, eventIndex: false, memory: ram)
        }
        #expect(throws: VirtioError.self) {
            try SplitQueue(size: 256, maximumSize: 256, descriptorTable: 0xFFF00, availableRing: 0x3000, usedRing: 0x4000, eventIndex: false, memory: ram)
        }
    }

    @Test func eventIndexSuppressesInterruptsUntilUsedEvent() throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue(eventIndex: true)
        let usedEvent = FakeDriver.available + 4 + 2 * 16
        for _ in 0..<3 { driver.add(readable: [(0x10000, 8)], writable: []) }
        ram.put(UInt16(2), at: usedEvent)
        for expectInterrupt in [false, false, true] {
            let chain = try #require(try queue.next(memory: ram))
            try queue.addUsed(head: chain.head, length: 0, memory: ram)
            #expect(try queue.needsInterrupt(memory: ram) == expectInterrupt)
        }
        #expect(try queue.next(memory: ram) == nil)
        #expect(ram.get(UInt16.self, at: FakeDriver.used + 4 + 8 * 16) == 3, "avail_event tells the driver when to notify")
    }

    @Test func noInterruptFlagIsHonouredWithoutEventIndex() throws {
        let ram = FakeRAM()
        var driver = FakeDriver(ram: ram)
        var queue = try driver.queue()
        driver.add(readable: [(0x10000, 8)], writable: [])
        ram.put(SplitQueue.noInterruptFlag, at: FakeDriver.available)
        let chain = try #require(try queue.next(memory: ram))
        try queue.addUsed(head: chain.head, length: 0, memory: ram)
        #expect(try queue.needsInterrupt(memory: ram) == false)
    }
}
