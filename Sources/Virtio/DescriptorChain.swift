/// One guest buffer of a descriptor chain: a guest-physical range already checked to
/// be guest RAM (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table").
public struct BufferSegment: Equatable, Sendable {
    public let address: UInt64
    public let length: UInt32
}

/// A validated descriptor chain (virtio 1.2 §2.7.5, with indirect tables per §2.7.5.3):
/// its head index, then the device-readable buffers followed by the device-writable
/// ones. Walking a chain checks every index, address and length the guest supplied.
public struct DescriptorChain: Equatable, Sendable {
    static let flagNext: UInt16 = 1
    static let flagWrite: UInt16 = 2
    static let flagIndirect: UInt16 = 4
    static let descriptorSize: UInt64 = 16

    /// The head descriptor index, returned in the used ring.
    public let head: UInt16
    public private(set) var readable: [BufferSegment] = []
    public private(set) var writable: [BufferSegment] = []

    public var readableLength: UInt64 { readable.reduce(0) { $0 + UInt64($1.length) } }
    public var writableLength: UInt64 { writable.reduce(0) { $0 + UInt64($1.length) } }

    /// Walks the chain starting at `head` in the table at `table` of `queueSize` entries.
    /// A chain (indirect entries included) may hold at most `queueSize` descriptors.
    init(head: UInt16, table: UInt64, queueSize: UInt16, memory: any GuestRAM) throws(VirtioError) {
        self.head = head
        let limit = Int(queueSize)
        var count = 0
        var tableAddress = table
        var tableSize = UInt32(queueSize)
        var index = head
        var inIndirect = false
        while true {
            guard UInt32(index) < tableSize else { throw .descriptorIndex(index, tableSize: tableSize) }
            count += 1
            guard count <= limit else { throw .chainTooLong(limit: limit) }
            let entry = tableAddress + UInt64(index) * Self.descriptorSize
            let address = try memory.load(UInt64.self, at: entry)
            let length = try memory.load(UInt32.self, at: entry + 8)
            let flags = try memory.load(UInt16.self, at: entry + 12)
            let next = try memory.load(UInt16.self, at: entry + 14)
            if flags & Self.flagIndirect != 0 {
                guard !inIndirect else { throw .badIndirectTable("indirect descriptor inside an indirect table") }
                guard flags & Self.flagNext == 0, count == 1 else {
                    throw .badIndirectTable("indirect descriptor must be a chain's only descriptor")
                }
                guard length > 0, UInt64(length) % Self.descriptorSize == 0,
                      UInt64(length) / Self.descriptorSize <= UInt64(limit) else {
                    throw .badIndirectTable("length \(length) is not 1...\(limit) descriptors")
                }
                _ = try memory.bytes(at: address, length: UInt64(length))
                tableAddress = address
                tableSize = length / UInt32(Self.descriptorSize)
                index = 0
                inIndirect = true
                count = 0
                continue
            }
            try append(address: address, length: length, writable: flags & Self.flagWrite != 0, memory: memory)
            guard flags & Self.flagNext != 0 else { return }
            index = next
        }
    }

    private mutating func append(address: UInt64, length: UInt32, writable isWritable: Bool,
                                 memory: any GuestRAM) throws(VirtioError) {
        guard length > 0 else { return }
        _ = try memory.bytes(at: address, length: UInt64(length))
        let segment = BufferSegment(address: address, length: length)
        if isWritable {
            writable.append(segment)
        } else {
            guard writable.isEmpty else { throw .readableAfterWritable }
            readable.append(segment)
        }
    }

    /// Calls `body` with the host bytes of `segments` from byte `offset` for `length`
    /// bytes, in order (the segments were checked when the chain was walked).
    public static func forEach(in segments: [BufferSegment], offset: UInt64, length: UInt64, memory: any GuestRAM,
                               _ body: (UnsafeMutableRawBufferPointer) throws(VirtioError) -> Void) throws(VirtioError) {
        var skip = offset
        var remaining = length
        for segment in segments where remaining > 0 {
            let size = UInt64(segment.length)
            if skip >= size {
                skip -= size
                continue
            }
            let take = min(size - skip, remaining)
            try body(try memory.bytes(at: segment.address + skip, length: take))
            remaining -= take
            skip = 0
        }
    }

    /// Copies `count` bytes of the readable buffers from `offset` (fewer if they end).
    public func readBytes(offset: UInt64, count: Int, memory: any GuestRAM) throws(VirtioError) -> [UInt8] {
        var result: [UInt8] = []
        try Self.forEach(in: readable, offset: offset, length: UInt64(count), memory: memory) { result += $0 }
        return result
    }

    /// Copies `bytes` into the writable buffers at `offset`; returns how many fit.
    @discardableResult
    public func writeBytes(_ bytes: [UInt8], offset: UInt64, memory: any GuestRAM) throws(VirtioError) -> Int {
        var done = 0
        try Self.forEach(in: writable, offset: offset, length: UInt64(bytes.count), memory: memory) { target in
            bytes[done..<done + target.count].withUnsafeBytes { target.copyMemory(from: $0) }
            done += target.count
        }
        return done
    }
}
