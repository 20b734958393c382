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
    }

    struct State {
        var active = false
        /// A frame read from the TAP that waits for a receive buffer.
        var pending: [UInt8]?
    }

    public let deviceType = VirtioDeviceType.network
    public let features = Feature.checksum | Feature.guestChecksum | Feature.mac | Feature.guestTSO4
        | Feature.guestTSO6 | Feature.hostTSO4 | Feature.hostTSO6
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
        state.withLock { $0.active = true }
    }

    public func reset() {
        state.withLock { $0 = State() }
    }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        index == Self.transmitQueue ? try transmit(queue: &queue, memory: memory) : try receive(queue: &queue, memory: memory)
    }

    /// Each transmit chain is one vnet header plus frame, written to the TAP whole. A
    /// frame the TAP cannot take now is dropped, as a congested link would.
    private func transmit(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        var frame: [UInt8] = []
        while let chain = try queue.next(memory: memory) {
            frame.removeAll(keepingCapacity: true)
            if chain.readableLength <= UInt64(Self.frameLimit) {
                try DescriptorChain.forEach(in: chain.readable, offset: 0, length: chain.readableLength, memory: memory) {
                    frame += $0
                }
                if frame.count > Self.headerSize {
                    while Glibc.write(fd, frame, frame.count) < 0 && errno == EINTR {}
                }
            }
            try queue.addUsed(head: chain.head, length: 0, memory: memory)
            used = true
        }
        return used
    }

    /// Moves frames from the TAP into receive chains until either runs out; a frame
    /// too large for its chain is dropped.
    private func receive(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        var buffer = [UInt8](repeating: 0, count: Self.frameLimit)
        while true {
            var frame = state.withLock { $0.pending }
            if frame == nil {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return used }
                frame = Array(buffer[0..<n])
            }
            guard let chain = try queue.next(memory: memory) else {
                state.withLock { $0.pending = frame }
                return used
            }
            state.withLock { $0.pending = nil }
            var written = 0
            if let frame, UInt64(frame.count) <= chain.writableLength {
                written = try chain.writeBytes(frame, offset: 0, memory: memory)
            }
            try queue.addUsed(head: chain.head, length: UInt32(written), memory: memory)
            used = true
        }
    }
}
