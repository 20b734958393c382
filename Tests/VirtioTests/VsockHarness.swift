#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Virtio
import HostSystem

/// A ``HostEventRegistry`` that only records: tests deliver readiness by hand with
/// ``fire(_:_:)``, so every step of a vsock test is deterministic.
final class RecordingRegistry: HostEventRegistry {
    struct Watch {
        var events: HostEvents
        let handler: @Sendable (HostEvents) -> Void
    }

    let watches = Mutex<[Int32: Watch]>([:])

    func watch(_ fd: Int32, for events: HostEvents, handler: @escaping @Sendable (HostEvents) -> Void) throws(VirtioError) {
        watches.withLock { $0[fd] = Watch(events: events, handler: handler) }
    }

    func change(_ fd: Int32, to events: HostEvents) throws(VirtioError) {
        watches.withLock { $0[fd]?.events = events }
    }

    func unwatch(_ fd: Int32) {
        _ = watches.withLock { $0.removeValue(forKey: fd) }
    }

    var watchedFDs: Set<Int32> { watches.withLock { Set($0.keys) } }
    func events(of fd: Int32) -> HostEvents? { watches.withLock { $0[fd]?.events } }

    /// Runs the handler of `fd` as the device thread would.
    func fire(_ fd: Int32, _ events: HostEvents = .input) {
        watches.withLock { $0[fd]?.handler }?(events)
    }
}

/// The queues a device asked the device thread to run.
final class WakeLog: Sendable {
    let queues = Mutex<[Int]>([])
}

/// A guest driver for ``VsockDevice`` over ``FakeRAM``: rx and tx queues with their
/// buffers, the device's host side on a fresh Unix socket path, and test-side Unix
/// socket helpers.
struct VsockHarness {
    static let guestCID: UInt64 = 3
    static let rxBuffers: UInt64 = 0x10_0000
    static let txBuffers: UInt64 = 0x50_0000
    static let slot: UInt64 = 0x1_1000

    let ram = FakeRAM(size: 8 << 20)
    let registry = RecordingRegistry()
    let device: VsockDevice
    let uds: String
    let wakes = WakeLog()
    var rx: FakeDriver
    var tx: FakeDriver
    var rxQueue: SplitQueue
    var txQueue: SplitQueue
    var rxAddresses: [UInt16: UInt64] = [:]
    var rxPosted = 0
    var rxSeen: UInt16 = 0
    var txSent = 0

    init(_ name: String = #function) throws {
        uds = "/tmp/swiftlet-vsock-\(getpid())-\(name.prefix(while: { $0 != "(" }))"
        unlink(uds)
        device = try VsockDevice(guestCID: UInt32(Self.guestCID), udsPath: uds)
        rx = FakeDriver(ram: ram, size: 64)
        tx = FakeDriver(ram: ram, size: 64, offset: 0x8000)
        rxQueue = try rx.queue()
        txQueue = try tx.queue()
        let wakes = self.wakes
        try device.attach(DeviceContext(events: registry, runQueue: { _ in },
                                        wakeQueue: { queue in wakes.queues.withLock { $0.append(queue) } }))
        device.activate(features: VsockDevice.featureStream)
    }

    /// The guest posts `count` receive buffers of `capacity` bytes (header included).
    mutating func postReceiveBuffers(_ count: Int, capacity: UInt32 = 44 + 4096) {
        for _ in 0..<count {
            let address = Self.rxBuffers + UInt64(rxPosted % 48) * Self.slot
            rxPosted += 1
            let head = rx.add(readable: [], writable: [(address, capacity)])
            rxAddresses[head] = address
        }
    }

    /// Runs the rx queue; returns the packets the device delivered since the last call.
    mutating func receive() throws -> [(header: VsockHeader, payload: [UInt8])] {
        _ = try device.process(queue: &rxQueue, index: VsockDevice.receiveQueue, memory: ram)
        var packets: [(VsockHeader, [UInt8])] = []
        while rxSeen != rx.usedIndex {
            let element = rx.usedElement(rxSeen)
            rxSeen &+= 1
            let address = rxAddresses[UInt16(element.id)]!
            let header = VsockHeader(bytes: ram.get(count: 44, at: address))!
            #expect(element.length == 44 + header.length, "used length covers header and payload")
            packets.append((header, ram.get(count: Int(header.length), at: address + 44)))
        }
        return packets
    }

    /// The guest sends one packet, header and payload in separate descriptors (as
    /// Linux 6.1 does), or `raw` bytes as the whole chain.
    mutating func send(_ header: VsockHeader, payload: [UInt8] = [], raw: [UInt8]? = nil) throws {
        let address = Self.txBuffers + UInt64(txSent % 16) * Self.slot
        txSent += 1
        if let raw {
            ram.put(bytes: raw, at: address)
            tx.add(readable: [(address, UInt32(raw.count))], writable: [])
        } else {
            ram.put(bytes: header.bytes, at: address)
            ram.put(bytes: payload, at: address + 44)
            tx.add(readable: [(address, 44)] + (payload.isEmpty ? [] : [(address + 44, UInt32(payload.count))]), writable: [])
        }
        _ = try device.process(queue: &txQueue, index: VsockDevice.transmitQueue, memory: ram)
    }

    /// A header from the guest's `port` to host port `hostPort`.
    static func guestHeader(_ operation: VsockHeader.Operation, from port: UInt32, to hostPort: UInt32, length: Int = 0,
                            flags: UInt32 = 0, bufferAllocation: UInt32 = 64 << 10, forwardCount: UInt32 = 0) -> VsockHeader {
        VsockHeader(sourceCID: guestCID, destinationCID: VsockHeader.hostCID, sourcePort: port, destinationPort: hostPort,
                    length: UInt32(length), operation: operation, flags: flags, bufferAllocation: bufferAllocation,
                    forwardCount: forwardCount)
    }

    /// The guest, after posting `buffers` receive buffers of `capacity` bytes, asks to
    /// connect from its `guestPort` to host port `port`, where a host listener waits;
    /// returns the host's end once the device has answered (its response consumed).
    mutating func openGuestConnection(from guestPort: UInt32, to port: UInt32, buffers: Int = 8, capacity: UInt32 = 44 + 4096,
                                      bufferAllocation: UInt32 = 64 << 10) throws -> HostEnd {
        let path = "\(uds)_\(port)"
        let server = Self.listen(at: path)
        postReceiveBuffers(buffers, capacity: capacity)
        try send(Self.guestHeader(.request, from: guestPort, to: port, bufferAllocation: bufferAllocation))
        let peer = accept(server, nil, nil)
        #expect(peer >= 0, "the device connected to \(path)")
        _ = try receive()
        return HostEnd(path: path, server: server, peer: peer)
    }

    /// Fires every watched fd but the listener (the connections' and handshakes' sockets).
    func fireConnections(_ events: HostEvents = .input) {
        for fd in registry.watchedFDs where fd != device.listener { registry.fire(fd, events) }
    }

    var connectionFDs: [Int32] { device.state.withLock { $0.connections.values.map(\.fd) } }

    func takeWakes() -> [Int] { wakes.queues.withLock { w in defer { w = [] }; return w } }

    // MARK: test-side Unix sockets (blocking)

    /// The host side of a guest-opened connection: the listener at `<uds>_<port>` and the
    /// socket it accepted.
    struct HostEnd {
        let path: String
        let server: Int32
        let peer: Int32

        /// Closes the listener (removing its path) and the peer, unless the test closed
        /// the peer itself.
        func close(peerClosed: Bool = false) {
            Glibc.close(server)
            unlink(path)
            if !peerClosed { Glibc.close(peer) }
        }
    }

    static func listen(at path: String) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect((try? UnixSocketAddress(path).bind(fd)) != nil, "bind \(path)")
        Glibc.listen(fd, 8)
        return fd
    }

    static func connect(to path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect((try? UnixSocketAddress(path).connect(fd)) != nil, "connect to \(path)")
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count)
    }

    /// Everything readable on `fd` right now; nil when it is closed (end of file, or a
    /// reset) and nothing was read.
    static func readAvailable(_ fd: Int32) -> [UInt8]? {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                result += buffer[0..<n]
                continue
            }
            let closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
            return closed && result.isEmpty ? nil : result
        }
    }
}
