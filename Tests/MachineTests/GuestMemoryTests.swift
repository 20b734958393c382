import Testing
@testable import Machine

@Suite struct GuestMemoryTests {
    @Test func readsBackWhatWasWritten() throws {
        let memory = try GuestMemory(size: 16 << 20)
        try memory.write([1, 2, 3, 4], at: 0x1000)
        #expect(try memory.read(at: 0x1000, count: 4) == [1, 2, 3, 4])
        try memory.write(UInt32(0xDEAD_BEEF), at: 0x2001)
        #expect(try memory.read(UInt32.self, at: 0x2001) == 0xDEAD_BEEF)
        #expect(try memory.read(UInt8.self, at: 0x2001) == 0xEF)
    }

    @Test func rejectsAccessesPastTheEndOrWrappingAround() throws {
        let memory = try GuestMemory(size: 16 << 20)
        #expect(throws: GuestMemoryError.self) { try memory.read(at: (16 << 20) - 2, count: 4) }
        #expect(throws: GuestMemoryError.self) { try memory.write([0], at: 16 << 20) }
        #expect(throws: GuestMemoryError.self) { try memory.buffer(at: UInt64.max - 1, length: 4) }
        #expect(throws: GuestMemoryError.self) { try memory.read(UInt64.self, at: UInt64.max) }
        #expect(throws: GuestMemoryError.self) { try memory.read(at: 0, count: -1) }
        #expect(!memory.contains(0x1000, length: UInt64.max))
        #expect(memory.contains((16 << 20) - 4, length: 4))
    }

    @Test func largeMemoryIsSplitAroundTheMMIOHole() throws {
        let memory = try GuestMemory(size: (3 << 30) + (512 << 20))
        #expect(memory.regions.count == 2)
        #expect(memory.regions[0].guestAddress == 0 && memory.regions[0].size == 3 << 30)
        #expect(memory.regions[1].guestAddress == 1 << 32 && memory.regions[1].size == 512 << 20)
        // The hole is not RAM; above 4 GiB is.
        #expect(throws: GuestMemoryError.self) { try memory.write([1], at: 0xC000_0000) }
        #expect(throws: GuestMemoryError.self) { try memory.read(at: 0xBFFF_FFFF, count: 2) }
        try memory.write([7], at: 0x1_0000_0000)
        #expect(try memory.read(at: 0x1_0000_0000, count: 1) == [7])
        #expect(throws: GuestMemoryError.self) { try memory.write([1], at: 0x1_2000_0000) }
    }
}

@Suite struct IOBusTests {
    final class Recorder: BusDevice, @unchecked Sendable {
        var writes: [(UInt64, [UInt8])] = []
        func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
            data.initializeMemory(as: UInt8.self, repeating: UInt8(offset))
        }
        func write(offset: UInt64, data: UnsafeRawBufferPointer) { writes.append((offset, Array(data))) }
    }

    @Test func dispatchesByRangeAndReadsUnclaimedAsOnes() throws {
        let a = Recorder(), b = Recorder()
        let bus = try #require(IOBus([.init(base: 0x3F8, length: 8, device: b), .init(base: 0x60, length: 5, device: a)]))
        var value: [UInt8] = [0]
        value.withUnsafeMutableBytes { bus.read(address: 0x3FD, data: $0) }
        #expect(value == [5])
        value.withUnsafeMutableBytes { bus.read(address: 0x80, data: $0) }
        #expect(value == [0xFF])
        [UInt8(0xFE)].withUnsafeBytes { bus.write(address: 0x64, data: $0) }
        #expect(a.writes.count == 1 && a.writes[0].0 == 4 && a.writes[0].1 == [0xFE])
        // An access straddling the end of a range is not delivered.
        [UInt8](repeating: 0, count: 4).withUnsafeBytes { bus.write(address: 0x3FE, data: $0) }
        #expect(b.writes.isEmpty)
    }

    @Test func rejectsOverlappingRanges() {
        #expect(IOBus([.init(base: 0, length: 8, device: Recorder()), .init(base: 4, length: 8, device: Recorder())]) == nil)
    }
}
