import Synchronization

/// The device side of one split virtqueue (virtio 1.2 §2.7): takes descriptor chains
/// from the available ring, returns them through the used ring, and decides when the
/// driver needs an interrupt — with `VIRTIO_F_EVENT_IDX` (§2.7.7, §2.7.10) through
/// `used_event`/`avail_event`, otherwise through `VIRTQ_AVAIL_F_NO_INTERRUPT`.
///
/// Ring addresses and the size are checked once, when the driver enables the queue;
/// every index read from the rings afterwards is checked again on use.
public struct SplitQueue: Sendable {
    static let noInterruptFlag: UInt16 = 1

    public let size: UInt16
    public let descriptorTable: UInt64
    public let availableRing: UInt64
    public let usedRing: UInt64
    public let eventIndex: Bool
    /// The next available-ring slot the device will look at.
    public private(set) var nextAvailable: UInt16 = 0
    /// The used index the device will publish next.
    public private(set) var nextUsed: UInt16 = 0
    private var usedAtLastInterrupt: UInt16 = 0

    /// Validates the layout the driver wrote to the transport: a power-of-two size up
    /// to `maximumSize`, §2.7's alignments (16/2/4), and all three parts inside RAM.
    public init(size: UInt16, maximumSize: UInt16, descriptorTable: UInt64, availableRing: UInt64,
                usedRing: UInt64, eventIndex: Bool, memory: any GuestRAM) throws(VirtioError) {
        guard size > 0, size <= maximumSize, size & (size - 1) == 0 else {
            throw .badQueueLayout("size \(size) is not a power of two in 1...\(maximumSize)")
        }
        guard descriptorTable % 16 == 0, availableRing % 2 == 0, usedRing % 4 == 0 else {
            throw .badQueueLayout("misaligned ring addresses")
        }
        let entries = UInt64(size)
        _ = try memory.bytes(at: descriptorTable, length: 16 * entries)
        _ = try memory.bytes(at: availableRing, length: 6 + 2 * entries)
        _ = try memory.bytes(at: usedRing, length: 6 + 8 * entries)
        self.size = size
        self.descriptorTable = descriptorTable
        self.availableRing = availableRing
        self.usedRing = usedRing
        self.eventIndex = eventIndex
    }

    private var usedEventAddress: UInt64 { availableRing + 4 + 2 * UInt64(size) }
    private var availableEventAddress: UInt64 { usedRing + 4 + 8 * UInt64(size) }

    /// The next chain the driver made available, or nil when the ring is empty. With
    /// event-idx, an empty ring first publishes `avail_event` and looks once more, so a
    /// buffer added meanwhile is not missed.
    public mutating func next(memory: any GuestRAM) throws(VirtioError) -> DescriptorChain? {
        var available = try availableIndex(memory: memory)
        if available == nextAvailable {
            guard eventIndex else { return nil }
            try memory.store(nextAvailable, at: availableEventAddress)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            available = try availableIndex(memory: memory)
            if available == nextAvailable { return nil }
        }
        let slot = availableRing + 4 + 2 * UInt64(nextAvailable % size)
        let head = try memory.load(UInt16.self, at: slot)
        nextAvailable &+= 1
        return try DescriptorChain(head: head, table: descriptorTable, queueSize: size, memory: memory)
    }

    /// Leaves the chain `next` returned last to the driver's side of the ring: the
    /// device had nothing to put in it yet and takes it again on a later `next`.
    public mutating func undoNext() {
        nextAvailable &-= 1
    }

    /// `avail.idx`, read with acquire semantics and checked to be at most a queue
    /// ahead of the device.
    private func availableIndex(memory: any GuestRAM) throws(VirtioError) -> UInt16 {
        let index = try memory.load(UInt16.self, at: availableRing + 2)
        atomicMemoryFence(ordering: .acquiring)
        guard index &- nextAvailable <= size else {
            throw .availableIndexJump(from: nextAvailable, to: index, queueSize: size)
        }
        return index
    }

    /// Returns chain `head` to the driver with `length` bytes written into it, then
    /// publishes the new `used.idx` with release semantics.
    public mutating func addUsed(head: UInt16, length: UInt32, memory: any GuestRAM) throws(VirtioError) {
        let element = usedRing + 4 + 8 * UInt64(nextUsed % size)
        try memory.store(UInt32(head), at: element)
        try memory.store(length, at: element + 4)
        nextUsed &+= 1
        atomicMemoryFence(ordering: .releasing)
        try memory.store(nextUsed, at: usedRing + 2)
    }

    /// Whether the driver wants an interrupt for the buffers used since the last one
    /// (§2.7.10: `vring_need_event(used_event, new, old)` with event-idx).
    public mutating func needsInterrupt(memory: any GuestRAM) throws(VirtioError) -> Bool {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        let old = usedAtLastInterrupt
        let new = nextUsed
        guard new != old else { return false }
        usedAtLastInterrupt = new
        if eventIndex {
            let usedEvent = try memory.load(UInt16.self, at: usedEventAddress)
            return new &- usedEvent &- 1 < new &- old
        }
        return try memory.load(UInt16.self, at: availableRing) & Self.noInterruptFlag == 0
    }
}
