/// The header of every virtio-vsock packet (virtio 1.2 §5.10.6 "Device Operation",
/// `struct virtio_vsock_hdr`): 44 little-endian bytes, followed by `length` bytes of
/// payload for `rw` packets.
public struct VsockHeader: Equatable, Sendable {
    public static let size = 44
    /// The host's CID (§5.10.4: the host is always CID 2).
    public static let hostCID: UInt64 = 2

    /// §5.10.6 `op`.
    public enum Operation: UInt16, Sendable {
        case request = 1, response, reset, shutdown, readWrite, creditUpdate, creditRequest
    }

    /// §5.10.6.4 shutdown flags: the sender will receive (send) no more data.
    public enum ShutdownFlag {
        public static let receive: UInt32 = 1
        public static let send: UInt32 = 2
        public static let both: UInt32 = 3
    }

    /// §5.10.6 `type`: the only socket type offered.
    public static let typeStream: UInt16 = 1

    public var sourceCID: UInt64
    public var destinationCID: UInt64
    public var sourcePort: UInt32
    public var destinationPort: UInt32
    public var length: UInt32
    public var type: UInt16
    public var operation: UInt16
    public var flags: UInt32
    /// The sender's receive buffer size for this connection (§5.10.6.3).
    public var bufferAllocation: UInt32
    /// The bytes the sender has consumed from its receive buffer so far (wrapping).
    public var forwardCount: UInt32

    public init(sourceCID: UInt64, destinationCID: UInt64, sourcePort: UInt32, destinationPort: UInt32,
                length: UInt32 = 0, type: UInt16 = VsockHeader.typeStream, operation: Operation, flags: UInt32 = 0,
                bufferAllocation: UInt32 = 0, forwardCount: UInt32 = 0) {
        self.sourceCID = sourceCID
        self.destinationCID = destinationCID
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.type = type
        self.operation = operation.rawValue
        self.flags = flags
        self.bufferAllocation = bufferAllocation
        self.forwardCount = forwardCount
    }

    /// Decodes the first 44 bytes of `bytes`; nil when there are fewer.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= Self.size else { return nil }
        func field<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
            return value
        }
        sourceCID = field(0, UInt64.self)
        destinationCID = field(8, UInt64.self)
        sourcePort = field(16, UInt32.self)
        destinationPort = field(20, UInt32.self)
        length = field(24, UInt32.self)
        type = field(28, UInt16.self)
        operation = field(30, UInt16.self)
        flags = field(32, UInt32.self)
        bufferAllocation = field(36, UInt32.self)
        forwardCount = field(40, UInt32.self)
    }

    /// The 44 encoded bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        func put<T: FixedWidthInteger>(_ value: T) {
            for i in 0..<MemoryLayout<T>.size { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
        }
        put(sourceCID); put(destinationCID); put(sourcePort); put(destinationPort); put(length)
        put(type); put(operation); put(flags); put(bufferAllocation); put(forwardCount)
        return out
    }

    /// The decoded operation, nil for a value §5.10.6 does not define.
    public var knownOperation: Operation? { Operation(rawValue: operation) }
}
