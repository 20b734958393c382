#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import Synchronization

/// virtio-net over a host TAP device (virtio 1.2 §5.1): receiveq 0 and transmitq 1,
/// the 12-byte `virtio_net_hdr_v1` passed straight through the TAP's vnet header
/// (`IFF_VNET_HDR`), a fixed MAC, and checksum/TSO offloads in both directions. The
/// guest-receive offloads the driver accepts are switched on in the TAP with
/// `TUNSETOFFLOAD`. Without mergeable receive buffers each receive chain must hold a
/// whole (up to 64 KiB) frame, which Linux's "big packets" mode provides.
public final class NetworkDevice: VirtioDevice {
    public static let queueSize: UInt16 = 256
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    static let headerSize = 12
    static let frameLimit = 65_536 + 12

    /// §5.1.3 feature bits offered.
    enum Feature {
        static let checksum: UInt64 = 1 << 0
        static let guestChecksum: UInt64 = 1 << 1
        static let mac: UInt64 = 1 << 5
        static let guestTSO4: UInt64 = 1 << 7
        static let guestTSO6: UInt64 = 1 << 8
        static let hostTSO4: UInt64 = 1 << 11
        static let hostTSO6: UInt64 = 1 << 12
        static let mergeableReceiveBuffers: UInt64 = 1 << 15
    }

    struct State {
        var active = false
        /// VIRTIO_NET_F_MRG_RXBUF was negotiated: a frame may span several chains.
        var mergeable = false
    }

    public let deviceType = VirtioDeviceType.network
    public let features = Feature.checksum | Feature.guestChecksum | Feature.mac | Feature.guestTSO4
        | Feature.guestTSO6 | Feature.hostTSO4 | Feature.hostTSO6 | Feature.mergeableReceiveBuffers
    public var queueSizes: [UInt16] { [Self.queueSize, Self.queueSize] }
    public let mac: [UInt8]
    let fd: Int32
    let state = Mutex(State())

    /// Attaches to the TAP device `tapName` (created if it does not exist and this
    /// process may create it).
    public init(tapName: String, mac: [UInt8]) throws(VirtioError) {
        guard mac.count == 6, !tapName.isEmpty, tapName.utf8.count < 16 else {
            throw .configuration("--net needs tap=NAME (under 16 bytes) and a 6-byte MAC")
        }
        fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .configuration("tap \(tapName): cannot open /dev/net/tun: \(String(cString: strerror(errno)))") }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (i, byte) in tapName.utf8.enumerated() { name[i] = byte }
        }
        request.ifr_ifru.ifru_flags = CL_IFF_TAP | CL_IFF_NO_PI | CL_IFF_VNET_HDR
        var headerSize = Int32(Self.headerSize)
        guard cl_ioctl_pointer(fd, CL_TUNSETIFF, &request) == 0,
              cl_ioctl_pointer(fd, CL_TUNSETVNETHDRSZ, &headerSize) == 0 else {
            let code = errno
            close(fd)
            throw .configuration("tap \(tapName): \(String(cString: strerror(code)))")
        }
        self.mac = mac
    }

    deinit { close(fd) }

    /// §5.1.4: the MAC (status and the rest need features not offered).
    public var configuration: [UInt8] { mac + [0, 0] }

    /// Watches the TAP for frames (edge-triggered): ``receive(queue:memory:)`` reads
    /// until the TAP is empty or the guest has no receive buffers; in the latter case the
    /// guest's next receive-queue notification resumes it.
    public func attach(_ context: DeviceContext) throws(VirtioError) {
        try context.events.watch(fd, for: .input) { [weak self] _ in
            guard let self, self.state.withLock({ $0.active }) else { return }
            context.runQueue(Self.receiveQueue)
        }
    }

    public func activate(features negotiated: UInt64) {
        var offloads: UInt = 0
        if negotiated & Feature.guestChecksum != 0 {
            offloads |= CL_TUN_F_CSUM
            if negotiated & Feature.guestTSO4 != 0 { offloads |= CL_TUN_F_TSO4 }
            if negotiated & Feature.guestTSO6 != 0 { offloads |= CL_TUN_F_TSO6 }
        }
        _ = cl_ioctl_value(fd, CL_TUNSETOFFLOAD, offloads)
        state.withLock { $0 = State(active: true, mergeable: negotiated & Feature.mergeableReceiveBuffers != 0) }
    }

    public func reset() {
        state.withLock { $0 = State() }
    }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        index == Self.transmitQueue ? try transmit(queue: &queue, memory: memory) : try receive(queue: &queue, memory: memory)
    }

    /// Each transmit chain is one vnet header plus frame, written to the TAP whole
    /// straight from guest memory (writev). A frame the TAP cannot take now is dropped,
    /// as a congested link would.
    private func transmit(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            if chain.readableLength > UInt64(Self.headerSize), chain.readableLength <= UInt64(Self.frameLimit) {
                _ = HostIO.write(fd, try Self.buffers(chain.readable, length: chain.readableLength, memory: memory))
            }
            try queue.addUsed(head: chain.head, length: 0, memory: memory)
            used = true
        }
        return used
    }

    /// Reads frames from the TAP straight into receive chains (readv) until either runs
    /// out; chains are taken first and given back when the TAP turns out empty. Without
    /// mergeable buffers each frame gets one chain: a frame longer than its chain is cut
    /// short by the TAP (the guest then drops it), and a chain too small for a vnet
    /// header and an Ethernet header is returned empty. With them (§5.1.6.3.1) a frame
    /// is read into as many chains as it needs, at least a maximal frame's worth being
    /// taken before each read, and `num_buffers` in its header says how many it used.
    private func receive(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        if state.withLock({ $0.mergeable }) { return try receiveMerged(queue: &queue, memory: memory) }
        var used = false
        while let chain = try queue.next(memory: memory) {
            guard chain.writableLength >= UInt64(Self.headerSize + 14) else {
                try queue.addUsed(head: chain.head, length: 0, memory: memory)
                used = true
                continue
            }
            let length = min(chain.writableLength, UInt64(Self.frameLimit))
            guard case .done(let count) = HostIO.read(fd, into: try Self.buffers(chain.writable, length: length, memory: memory)) else {
                queue.undoNext()
                return used
            }
            try queue.addUsed(head: chain.head, length: UInt32(count), memory: memory)
            used = true
        }
        return used
    }

    private func receiveMerged(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        // Chains taken but not used yet, in ring order: they are the last ones `next`
        // returned, so giving them back is undoing that many.
        var pool: [DescriptorChain] = []
        var capacity: UInt64 = 0
        while true {
            while capacity < UInt64(Self.frameLimit), let chain = try queue.next(memory: memory) {
                pool.append(chain)
                capacity += chain.writableLength
            }
            // Too little room for a frame of any size: wait for more buffers (`next` found
            // the ring empty, so the driver notifies when it adds one).
            guard capacity >= UInt64(Self.frameLimit), let first = pool.first else { break }
            guard first.writableLength >= UInt64(Self.headerSize) else {
                try queue.addUsed(head: first.head, length: 0, memory: memory)
                capacity -= first.writableLength
                pool.removeFirst()
                used = true
                continue
            }
            var buffers: [UnsafeMutableRawBufferPointer] = []
            for chain in pool { buffers += try Self.buffers(chain.writable, length: chain.writableLength, memory: memory) }
            guard case .done(let count) = HostIO.read(fd, into: buffers) else { break }
            var lengths: [UInt32] = []
            var remaining = UInt64(count)
            for chain in pool where remaining > 0 {
                let length = min(chain.writableLength, remaining)
                remaining -= length
                lengths.append(UInt32(length))
            }
            try first.writeBytes([UInt8(truncatingIfNeeded: lengths.count), UInt8(truncatingIfNeeded: lengths.count >> 8)],
                                 offset: UInt64(Self.headerSize - 2), memory: memory)
            for (chain, length) in zip(pool, lengths) {
                try queue.addUsed(head: chain.head, length: length, memory: memory)
                capacity -= chain.writableLength
            }
            pool.removeFirst(lengths.count)
            used = true
        }
        pool.forEach { _ in queue.undoNext() }
        return used
    }

    static func buffers(_ segments: [BufferSegment], length: UInt64, memory: any GuestRAM) throws(VirtioError) -> [UnsafeMutableRawBufferPointer] {
        var buffers: [UnsafeMutableRawBufferPointer] = []
        try DescriptorChain.forEach(in: segments, offset: 0, length: length, memory: memory) { buffers.append($0) }
        return buffers
    }
}
