@testable import Virtio

/// Fake guest RAM for tests: `size` bytes at guest-physical address 0.
final class FakeRAM: GuestRAM, @unchecked Sendable {
    let base: UnsafeMutableRawBufferPointer

    init(size: Int = 1 << 20) {
        base = .allocate(byteCount: size, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { base.deallocate() }

    func hostBytes(at address: UInt64, length: UInt64) -> UnsafeMutableRawBufferPointer? {
        let (end, overflow) = address.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(base.count) else { return nil }
        return UnsafeMutableRawBufferPointer(rebasing: base[Int(address)..<Int(end)])
    }

    func put<T: FixedWidthInteger>(_ value: T, at address: UInt64) { try! store(value, at: address) }
    func get<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) -> T { try! load(type, at: address) }
    func put(bytes: [UInt8], at address: UInt64) { for (i, b) in bytes.enumerated() { base[Int(address) + i] = b } }
    func get(count: Int, at address: UInt64) -> [UInt8] { Array(base[Int(address)..<Int(address) + count]) }
}

/// The driver side of one split queue over ``FakeRAM``, laid out at fixed addresses
/// (plus `offset`, so that a device with several queues gets one driver per queue).
struct FakeDriver {
    static let descriptors: UInt64 = 0x1000
    static let available: UInt64 = 0x3000
    static let used: UInt64 = 0x4000
    let ram: FakeRAM
    let size: UInt16
    let offset: UInt64
    var nextDescriptor: UInt16 = 0
    var availableIndex: UInt16 = 0

    init(ram: FakeRAM, size: UInt16 = 16, offset: UInt64 = 0) {
        self.ram = ram
        self.size = size
        self.offset = offset
    }

    var descriptors: UInt64 { Self.descriptors + offset }
    var available: UInt64 { Self.available + offset }
    var used: UInt64 { Self.used + offset }

    func queue(eventIndex: Bool = false) throws -> SplitQueue {
        try SplitQueue(size: size, maximumSize: 256, descriptorTable: descriptors, availableRing: available,
                       usedRing: used, eventIndex: eventIndex, memory: ram)
    }

    /// Writes one raw descriptor at `table[index]`.
    func setDescriptor(_ index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16 = 0,
                       table: UInt64? = nil) {
        let entry = (table ?? descriptors) + 16 * UInt64(index)
        ram.put(address, at: entry)
        ram.put(length, at: entry + 8)
        ram.put(flags, at: entry + 12)
        ram.put(next, at: entry + 14)
    }

    /// Makes the chain starting at `head` available.
    mutating func publish(head: UInt16) {
        ram.put(head, at: available + 4 + 2 * UInt64(availableIndex % size))
        availableIndex &+= 1
        ram.put(availableIndex, at: available + 2)
    }

    /// Builds a chain of direct descriptors (readable first, then writable) and makes it available.
    @discardableResult
    mutating func add(readable: [(UInt64, UInt32)], writable: [(UInt64, UInt32)]) -> UInt16 {
        let parts = readable.map { ($0.0, $0.1, false) } + writable.map { ($0.0, $0.1, true) }
        let head = nextDescriptor
        for (i, part) in parts.enumerated() {
            let index = nextDescriptor
            nextDescriptor = (nextDescriptor + 1) % size
            let last = i == parts.count - 1
            setDescriptor(index, address: part.0, length: part.1,
                          flags: (last ? 0 : DescriptorChain.flagNext) | (part.2 ? DescriptorChain.flagWrite : 0),
                          next: nextDescriptor)
        }
        publish(head: head)
        return head
    }

    var usedIndex: UInt16 { ram.get(UInt16.self, at: used + 2) }
    func usedElement(_ slot: UInt16) -> (id: UInt32, length: UInt32) {
        let at = used + 4 + 8 * UInt64(slot % size)
        return (ram.get(UInt32.self, at: at), ram.get(UInt32.self, at: at + 4))
    }
}
