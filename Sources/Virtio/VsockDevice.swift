#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import HostSystem
import Synchronization

/// virtio-vsock (virtio 1.2 §5.10 "Socket Device") with stream sockets, whose host side
/// is Unix sockets the way Firecracker does it:
/// - host-initiated: a client connects to `udsPath` and writes `CONNECT <port>\n`; the
///   device asks the guest for a connection to that port from a fresh host port and,
///   once the guest answers RESPONSE, writes `OK <hostport>\n` to the client, after
///   which the socket is the stream (an RST from the guest closes the client);
/// - guest-initiated: a guest connection to CID 2 port P becomes a connection to the
///   Unix socket `<udsPath>_<P>` (none listening → RST).
///
/// Queues: rx 0 (device → guest packets), tx 1 (guest → device), event 2 (unused: no
/// transport resets are ever announced). Flow control follows §5.10.6.3 in both
/// directions (see ``VsockConnection``). Host fds are watched through the device
/// thread's ``HostEventRegistry``; everything else happens in ``process(queue:index:memory:)``.
/// A host socket's end of file becomes SHUTDOWN(send) for the guest, so host clients may
/// half-close (Firecracker sends SHUTDOWN with both flags instead).
public final class VsockDevice: VirtioDevice {
    public static let queueSize: UInt16 = 256
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    public static let eventQueue = 2
    /// §5.10.3 feature bit 0: stream sockets.
    static let featureStream: UInt64 = 1 << 0
    /// First host port handed to host-initiated connections (as Firecracker: 2^30 up).
    static let firstEphemeralPort: UInt32 = 1 << 30
    /// Connections plus unfinished CONNECT handshakes; beyond this new ones are refused.
    static let connectionLimit = 1024
    /// Control packets waiting for guest receive buffers; beyond this they are dropped
    /// (only a guest that stops reading its rx queue gets there).
    static let controlLimit = 4096
    /// Largest payload per packet to the guest (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).
    static let maximumPayload = 64 << 10
    /// Receive buffers filled by one read from a host socket (Linux posts 4 KiB ones).
    static let readBatch = 16

    /// A packet for the guest without data, waiting for an rx buffer.
    struct ControlPacket {
        let key: VsockConnectionKey
        let operation: VsockHeader.Operation
        var flags: UInt32 = 0
        /// The CID the packet comes from: the host, or the CID a refused guest packet
        /// was sent to.
        var sourceCID = VsockHeader.hostCID
    }

    struct State {
        var context: DeviceContext?
        var connections: [VsockConnectionKey: VsockConnection] = [:]
        var connectionsByFD: [Int32: VsockConnectionKey] = [:]
        /// Accepted clients that have not sent their whole `CONNECT` line yet.
        var handshakes: Set<Int32> = []
        var control: [ControlPacket] = []
        var controlStart = 0
        var nextEphemeralPort = VsockDevice.firstEphemeralPort
    }

    public let deviceType = VirtioDeviceType.socket
    public let features = VsockDevice.featureStream
    public var queueSizes: [UInt16] { [Self.queueSize, Self.queueSize, Self.queueSize] }
    public let guestCID: UInt64
    public let udsPath: String
    let listener: Int32
    let state = Mutex(State())

    /// Creates the listening socket at `udsPath` (see ``VsockUnixSocket/listen(path:)``).
    /// `guestCID` must be 3...0xFFFF_FFFE (0–2 are reserved, §5.10.4; -1 is "any").
    public init(guestCID: UInt32, udsPath: String) throws(VirtioError) {
        guard guestCID >= 3, guestCID != UInt32.max else {
            throw .configuration("vsock cid must be between 3 and \(UInt32.max - 1), got \(guestCID)")
        }
        let longest = udsPath + "_\(UInt32.max)"
        guard longest.utf8.count <= UnixSocketAddress.maximumPathLength else {
            throw .configuration("vsock uds path \"\(udsPath)\" is too long: \"<path>_<port>\" must fit \(UnixSocketAddress.maximumPathLength) bytes")
        }
        self.guestCID = UInt64(guestCID)
        self.udsPath = udsPath
        listener = try VsockUnixSocket.listen(path: udsPath)
    }

    deinit {
        state.withLock { s in
            for fd in s.handshakes { close(fd) }
            for connection in s.connections.values { close(connection.fd) }
        }
        close(listener)
        unlink(udsPath)
    }

    /// §5.10.4: `guest_cid`, 64-bit little-endian.
    public var configuration: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: guestCID >> (8 * $0)) } }

    public func attach(_ context: DeviceContext) throws(VirtioError) {
        state.withLock { $0.context = context }
        try watch(listener, for: .input, context: context)
    }

    /// The driver reset the device: every connection and handshake is closed (their
    /// host clients see end of file); the listener stays.
    public func reset() {
        state.withLock { s in
            for fd in s.handshakes { drop(fd, state: &s) }
            s.handshakes = []
            for connection in s.connections.values { drop(connection.fd, state: &s) }
            s.connections = [:]
            s.connectionsByFD = [:]
            s.control = []
            s.controlStart = 0
        }
    }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        switch index {
        case Self.transmitQueue:
            let (used, wake) = try state.withLock { s throws(VirtioError) in
                let used = try transmit(queue: &queue, memory: memory, state: &s)
                return (used, Self.hasPacketForGuest(s))
            }
            if wake { state.withLock { $0.context }?.wakeQueue(Self.receiveQueue) }
            return used
        case Self.receiveQueue:
            return try state.withLock { s throws(VirtioError) in try receive(queue: &queue, memory: memory, state: &s) }
        default:
            return false
        }
    }

    static func hasPacketForGuest(_ s: State) -> Bool {
        s.controlStart < s.control.count || s.connections.values.contains { $0.hasPacketForGuest }
    }

    // MARK: guest → host (tx queue)

    private func transmit(queue: inout SplitQueue, memory: any GuestRAM, state s: inout State) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            if let header = VsockHeader(bytes: try chain.readBytes(offset: 0, count: VsockHeader.size, memory: memory)) {
                try handle(header, payload: chain, memory: memory, state: &s)
            }
            try queue.addUsed(head: chain.head, length: 0, memory: memory)
            used = true
        }
        return used
    }

    /// One packet from the guest. Packets that break the rules end their connection
    /// with RST (or are dropped when they cannot name one); none stops the device.
    func handle(_ header: VsockHeader, payload chain: DescriptorChain, memory: any GuestRAM,
                state s: inout State) throws(VirtioError) {
        guard header.sourceCID == guestCID else { return }
        let key = VsockConnectionKey(localPort: header.destinationPort, peerPort: header.sourcePort)
        let connection = s.connections[key]
        guard header.destinationCID == VsockHeader.hostCID, header.type == VsockHeader.typeStream,
              let operation = header.knownOperation,
              UInt64(header.length) <= chain.readableLength - UInt64(VsockHeader.size) else {
            if header.knownOperation != .reset {
                if let connection { drop(connection.fd, state: &s) }
                queueControl(ControlPacket(key: key, operation: .reset, sourceCID: header.destinationCID), state: &s)
            }
            return
        }
        guard let connection else {
            if operation == .request {
                openGuestConnection(key, header: header, state: &s)
            } else if operation != .reset {
                queueControl(ControlPacket(key: key, operation: .reset), state: &s)
            }
            return
        }
        connection.absorbCredit(from: header)
        switch operation {
        case .request:
            reset(key, state: &s)
        case .response:
            guard connection.phase == .requested else { return reset(key, state: &s) }
            completeHostConnection(connection, state: &s)
        case .reset:
            drop(connection.fd, state: &s)
        case .shutdown:
            connection.guestShutdown |= header.flags & VsockHeader.ShutdownFlag.both
            settleShutdown(connection, state: &s)
        case .readWrite:
            guard connection.phase == .established,
                  connection.guestShutdown & VsockHeader.ShutdownFlag.send == 0 else { return reset(key, state: &s) }
            var buffers: [UnsafeMutableRawBufferPointer] = []
            try DescriptorChain.forEach(in: chain.readable, offset: UInt64(VsockHeader.size), length: UInt64(header.length),
                                        memory: memory) { buffers.append($0) }
            forward(buffers, on: connection, state: &s)
        case .creditUpdate:
            break
        case .creditRequest:
            connection.creditUpdateDue = true
        }
    }

    // MARK: host → guest (rx queue)

    private func receive(queue: inout SplitQueue, memory: any GuestRAM, state s: inout State) throws(VirtioError) -> Bool {
        var used = false
        while true {
            while s.controlStart < s.control.count {
                guard let chain = try nextReceiveBuffer(&queue, memory: memory) else { return used }
                let packet = s.control[s.controlStart]
                s.controlStart += 1
                var header = self.header(packet.key, packet.operation, flags: packet.flags, connection: s.connections[packet.key])
                header.sourceCID = packet.sourceCID
                try header.write(to: chain, memory: memory)
                try queue.addUsed(head: chain.head, length: UInt32(VsockHeader.size), memory: memory)
                used = true
            }
            s.control.removeAll(keepingCapacity: true)
            s.controlStart = 0
            let ready = s.connections.values.filter { $0.hasPacketForGuest }
            guard !ready.isEmpty else { return used }
            for connection in ready {
                guard let chain = try nextReceiveBuffer(&queue, memory: memory) else { return used }
                if try send(from: connection, first: chain, queue: &queue, memory: memory, state: &s) {
                    used = true
                } else {
                    queue.undoNext()
                }
            }
        }
    }

    private func nextReceiveBuffer(_ queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> DescriptorChain? {
        guard let chain = try queue.next(memory: memory) else { return nil }
        guard chain.writableLength >= UInt64(VsockHeader.size) else {
            throw .malformedRequest("vsock rx buffer of \(chain.writableLength) bytes cannot hold a packet header")
        }
        return chain
    }

    /// Sends the connection's next packets, starting in `first`: data read from the
    /// host socket with one readv into up to ``readBatch`` buffers (within the guest's
    /// credit), or SHUTDOWN/RST when the socket ended or failed, or a credit update.
    /// Returns false, with `first` not used, when there was nothing after all (the host
    /// socket had no data).
    private func send(from connection: VsockConnection, first: DescriptorChain, queue: inout SplitQueue,
                      memory: any GuestRAM, state s: inout State) throws(VirtioError) -> Bool {
        var operation = VsockHeader.Operation.creditUpdate
        var flags: UInt32 = 0
        // A buffer with no room past the header carries a credit update instead.
        if connection.canSendData, room(in: first, credit: connection.peerCredit) > 0 {
            var chains: [(chain: DescriptorChain, room: UInt64)] = []
            var credit = UInt64(connection.peerCredit)
            var chain: DescriptorChain? = first
            while let next = chain {
                let room = self.room(in: next, credit: UInt32(credit))
                guard room > 0 else {
                    queue.undoNext()
                    break
                }
                chains.append((next, room))
                credit -= room
                chain = chains.count < Self.readBatch && credit > 0 ? try nextReceiveBuffer(&queue, memory: memory) : nil
            }
            var buffers: [UnsafeMutableRawBufferPointer] = []
            for (chain, room) in chains {
                try DescriptorChain.forEach(in: chain.writable, offset: UInt64(VsockHeader.size), length: room, memory: memory) {
                    buffers.append($0)
                }
            }
            let result = HostIO.read(connection.fd, into: buffers)
            var unused = chains.count - 1
            switch result {
            case .done(let count):
                var remaining = UInt64(count)
                for (chain, room) in chains where remaining > 0 {
                    let payload = min(room, remaining)
                    remaining -= payload
                    connection.sentToPeer &+= UInt32(payload)
                    var header = self.header(connection.key, .readWrite, connection: connection)
                    header.length = UInt32(payload)
                    try header.write(to: chain, memory: memory)
                    try queue.addUsed(head: chain.head, length: UInt32(VsockHeader.size) + header.length, memory: memory)
                    unused -= 1
                }
                (0..<unused + 1).forEach { _ in queue.undoNext() }
                return true
            case .wouldBlock:
                connection.hostReadable = false
                (0..<unused).forEach { _ in queue.undoNext() }
                guard connection.creditUpdateDue else { return false }
            case .endOfFile:
                (0..<unused).forEach { _ in queue.undoNext() }
                connection.hostEnded = true
                operation = .shutdown
                flags = VsockHeader.ShutdownFlag.send
                if connection.guestShutdown & VsockHeader.ShutdownFlag.send != 0 && connection.output.isEmpty {
                    operation = .reset
                }
            case .failed:
                (0..<unused).forEach { _ in queue.undoNext() }
                operation = .reset
            }
        }
        try header(connection.key, operation, flags: flags, connection: connection).write(to: first, memory: memory)
        try queue.addUsed(head: first.head, length: UInt32(VsockHeader.size), memory: memory)
        if operation == .reset { drop(connection.fd, state: &s) }
        return true
    }

    /// Payload bytes `chain` can carry within `credit`.
    private func room(in chain: DescriptorChain, credit: UInt32) -> UInt64 {
        min(chain.writableLength - UInt64(VsockHeader.size), UInt64(credit), UInt64(Self.maximumPayload))
    }

    /// A header from the host end of `key`, carrying our credit for `connection`.
    func header(_ key: VsockConnectionKey, _ operation: VsockHeader.Operation, flags: UInt32 = 0,
                connection: VsockConnection?) -> VsockHeader {
        connection?.advertised()
        return VsockHeader(sourceCID: VsockHeader.hostCID, destinationCID: guestCID, sourcePort: key.localPort,
                           destinationPort: key.peerPort, operation: operation, flags: flags,
                           bufferAllocation: connection == nil ? 0 : VsockConnection.bufferSize,
                           forwardCount: connection?.forwardCount ?? 0)
    }

    func queueControl(_ packet: ControlPacket, state s: inout State) {
        guard s.control.count - s.controlStart < Self.controlLimit else { return }
        s.control.append(packet)
    }
}
