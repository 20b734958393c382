/// Guest data on its way to a host socket that could not take it yet: a FIFO of bytes
/// with cheap removal from the front.
struct PendingOutput {
    private var bytes: [UInt8] = []
    private var start = 0

    var count: Int { bytes.count - start }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ buffer: UnsafeRawBufferPointer) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: buffer)
    }

    /// Calls `body` with the waiting bytes; drops the `n` it returns from the front.
    mutating func drain(_ body: (UnsafeRawBufferPointer) -> Int) {
        let taken = bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        start += taken
        if start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 64 << 10, start * 2 >= bytes.count {
            bytes.removeFirst(start)
            start = 0
        }
    }

    mutating func removeAll() {
        bytes = []
        start = 0
    }
}

/// Identifies a stream connection (virtio 1.2 §5.10.6: the (cid, port) pairs of its
/// two ends; the CIDs are fixed, the host and this device's guest).
struct VsockConnectionKey: Hashable {
    /// The host end's port: the port a guest connected to, or the ephemeral port of a
    /// host-initiated connection.
    let localPort: UInt32
    /// The guest end's port.
    let peerPort: UInt32
}

/// One stream connection between a guest socket and a host Unix socket, with the
/// credit bookkeeping of virtio 1.2 §5.10.6.3 in both directions:
/// - guest → host: we advertise `bufferSize` and `forwardCount` (bytes written to the
///   host socket); bytes the host socket cannot take wait in `output`, which the guest's
///   credit keeps within `bufferSize`;
/// - host → guest: we send at most `peerBufferAllocation - (sentToPeer - peerForwardCount)`
///   bytes beyond what the guest has consumed.
final class VsockConnection {
    /// Our receive buffer per connection, advertised as `buf_alloc`.
    static let bufferSize: UInt32 = 256 << 10
    /// A credit update goes out once this much was forwarded since the last advertised
    /// `fwd_cnt` (the guest may otherwise wait for credit we already have).
    static let creditUpdateThreshold: UInt32 = bufferSize / 2

    enum Phase {
        /// Host-initiated: our REQUEST is on its way; the guest has not answered.
        case requested
        case established
    }

    let fd: Int32
    let key: VsockConnectionKey
    var phase: Phase
    var output = PendingOutput()
    /// EPOLLOUT is part of the watch (while `output` is not empty).
    var watchingOutput = false
    var forwardCount: UInt32 = 0
    var advertisedForwardCount: UInt32 = 0
    var peerBufferAllocation: UInt32 = 0
    var peerForwardCount: UInt32 = 0
    var sentToPeer: UInt32 = 0
    /// The host socket reported input that has not been read yet (edge-triggered).
    var hostReadable = false
    /// The host socket reached end of file; the guest was told (SHUTDOWN send).
    var hostEnded = false
    /// We shut down the host socket's write side after the guest's SHUTDOWN send.
    var hostWriteClosed = false
    /// The SHUTDOWN flags the guest has sent (they only accumulate).
    var guestShutdown: UInt32 = 0
    var creditUpdateDue = false

    init(fd: Int32, key: VsockConnectionKey, phase: Phase) {
        self.fd = fd
        self.key = key
        self.phase = phase
    }

    /// Bytes the guest can take now.
    var peerCredit: UInt32 {
        let inFlight = sentToPeer &- peerForwardCount
        return inFlight >= peerBufferAllocation ? 0 : peerBufferAllocation - inFlight
    }

    /// Whether reading the host socket into a guest buffer may make progress now.
    var canSendData: Bool {
        phase == .established && hostReadable && !hostEnded
            && guestShutdown & VsockHeader.ShutdownFlag.receive == 0 && peerCredit > 0
    }

    /// Whether a packet for the guest is waiting on this connection.
    var hasPacketForGuest: Bool { canSendData || creditUpdateDue }

    /// Takes the credit fields every guest packet carries.
    func absorbCredit(from header: VsockHeader) {
        peerBufferAllocation = header.bufferAllocation
        peerForwardCount = header.forwardCount
    }

    /// Records `count` more bytes written to the host socket.
    func forwarded(_ count: Int) {
        forwardCount &+= UInt32(truncatingIfNeeded: count)
        if forwardCount &- advertisedForwardCount >= Self.creditUpdateThreshold { creditUpdateDue = true }
    }

    /// A packet for the guest is being sent: it carries our current credit.
    func advertised() {
        advertisedForwardCount = forwardCount
        creditUpdateDue = false
    }
}
