#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Virtio

/// virtio-vsock (virtio 1.2 §5.10) over fake guest memory with real host Unix sockets:
/// both connection directions, credit flow control, shutdown, and hostile packets.
@Suite struct VsockDeviceTests {
    typealias H = VsockHarness

    @Test func configurationQueuesAndOptions() throws {
        let harness = try H()
        let device = harness.device
        #expect(device.deviceType == .socket)
        #expect(device.queueSizes.count == 3)
        #expect(device.configuration == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(device.features & VsockDevice.featureStream != 0)
        #expect(harness.registry.watchedFDs == [device.listener])
        #expect(throws: VirtioError.self) { try VsockDevice(guestCID: 2, udsPath: "/tmp/swiftlet-vsock-bad") }
        #expect(throws: VirtioError.self) { try VsockDevice(guestCID: 3, udsPath: "/tmp/" + String(repeating: "x", count: 100)) }
        #expect(throws: VirtioError.configuration("vsock uds path \(harness.uds) is in use by another process")) {
            try VsockDevice(guestCID: 4, udsPath: harness.uds)
        }
    }

    @Test func staleSocketFileIsReplaced() throws {
        let path = "/tmp/swiftlet-vsock-\(getpid())-stale"
        let old = H.listen(at: path)
        close(old)
        let device = try VsockDevice(guestCID: 3, udsPath: path)
        _ = device
        let client = H.connect(to: path)
        close(client)
    }

    @Test func guestConnectsToHostListenerAndBothSidesTalk() throws {
        var h = try H()
        let server = H.listen(at: "\(h.uds)_5000")
        defer { close(server); unlink("\(h.uds)_5000") }
        h.postReceiveBuffers(8)
        try h.send(H.guestHeader(.request, from: 1234, to: 5000))
        #expect(h.takeWakes() == [VsockDevice.receiveQueue])
        let peer = accept(server, nil, nil)
        defer { close(peer) }
        #expect(peer >= 0)
        var packets = try h.receive()
        #expect(packets.count == 1)
        let response = try #require(packets.first?.header)
        #expect(response.knownOperation == .response)
        #expect(response.sourceCID == 2 && response.destinationCID == 3)
        #expect(response.sourcePort == 5000 && response.destinationPort == 1234)
        #expect(response.bufferAllocation == VsockConnection.bufferSize)

        try h.send(H.guestHeader(.readWrite, from: 1234, to: 5000, length: 5), payload: Array("hello".utf8))
        #expect(H.readAvailable(peer) == Array("hello".utf8))
        H.send(peer, Array("world".utf8))
        h.fireConnections()
        packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.readWrite])
        #expect(packets.first?.payload == Array("world".utf8))
        #expect(packets.first?.header.forwardCount == 5, "every packet carries our fwd_cnt")

        try h.send(H.guestHeader(.shutdown, from: 1234, to: 5000, flags: VsockHeader.ShutdownFlag.both))
        #expect(H.readAvailable(peer) == nil, "the host end sees end of file")
        packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.reset])
        #expect(h.connectionFDs.isEmpty && h.registry.watchedFDs == [h.device.listener], "no fd is left behind")
    }

    @Test func guestConnectionWithoutHostListenerIsReset() throws {
        var h = try H()
        h.postReceiveBuffers(2)
        try h.send(H.guestHeader(.request, from: 1, to: 5999))
        let packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.reset])
        #expect(packets.first?.header.sourcePort == 5999 && packets.first?.header.destinationPort == 1)
        #expect(h.connectionFDs.isEmpty)
    }

    @Test func hostConnectsWithConnectLineAndGetsOK() throws {
        var h = try H()
        h.postReceiveBuffers(8)
        let client = H.connect(to: h.uds)
        defer { close(client) }
        H.send(client, Array("CONNECT 1024\nearly".utf8))
        h.registry.fire(h.device.listener)
        h.fireConnections()
        var packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.request])
        let request = try #require(packets.first?.header)
        #expect(request.sourcePort == VsockDevice.firstEphemeralPort && request.destinationPort == 1024)
        #expect(H.readAvailable(client) == [], "no OK before the guest answers")

        try h.send(H.guestHeader(.response, from: 1024, to: request.sourcePort))
        #expect(H.readAvailable(client) == Array("OK \(VsockDevice.firstEphemeralPort)\n".utf8))
        packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.readWrite])
        #expect(packets.first?.payload == Array("early".utf8), "bytes sent right after the line are not lost")

        let second = H.connect(to: h.uds)
        defer { close(second) }
        H.send(second, Array("CONNECT 1025\n".utf8))
        h.registry.fire(h.device.listener)
        h.fireConnections()
        packets = try h.receive()
        let secondRequest = try #require(packets.first?.header)
        #expect(secondRequest.sourcePort == VsockDevice.firstEphemeralPort + 1)
        try h.send(H.guestHeader(.reset, from: 1025, to: secondRequest.sourcePort))
        #expect(H.readAvailable(second) == nil, "an RST from the guest closes the client")
        #expect(h.connectionFDs.count == 1)
    }

    @Test(arguments: ["HELLO 1\n", "CONNECT x\n", "CONNECT\n", "CONNECT 1 2\n", "CONNECT 99999999999\n",
                      String(repeating: "C", count: 40)])
    func malformedConnectLineClosesTheClient(line: String) throws {
        var h = try H("malformed-\(line.utf8.count)")
        h.postReceiveBuffers(2)
        let client = H.connect(to: h.uds)
        defer { close(client) }
        H.send(client, Array(line.utf8))
        h.registry.fire(h.device.listener)
        h.fireConnections()
        #expect(H.readAvailable(client) == nil)
        #expect(try h.receive().isEmpty)
        #expect(h.registry.watchedFDs == [h.device.listener])
    }

    @Test func connectLineMayArriveInPieces() throws {
        var h = try H()
        h.postReceiveBuffers(2)
        let client = H.connect(to: h.uds)
        defer { close(client) }
        H.send(client, Array("CONN".utf8))
        h.registry.fire(h.device.listener)
        h.fireConnections()
        #expect(try h.receive().isEmpty)
        H.send(client, Array("ECT 7\n".utf8))
        h.fireConnections()
        #expect(try h.receive().map(\.header.knownOperation) == [.request])
    }

    /// Host → guest: never more than the guest's buf_alloc beyond its fwd_cnt.
    @Test func hostDataRespectsGuestCredit() throws {
        var h = try H()
        let end = try h.openGuestConnection(from: 77, to: 6000, buffers: 16, capacity: 44 + 2048, bufferAllocation: 4096)
        defer { end.close() }
        let peer = end.peer
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        H.send(peer, data)
        h.fireConnections()
        var received = try h.receive().flatMap(\.payload)
        #expect(received.count == 4096, "credit is 4096 bytes")
        #expect(try h.receive().isEmpty)
        try h.send(H.guestHeader(.creditUpdate, from: 77, to: 6000, bufferAllocation: 4096, forwardCount: 4096))
        #expect(h.takeWakes().contains(VsockDevice.receiveQueue))
        received += try h.receive().flatMap(\.payload)
        #expect(received.count == 8192)
        h.postReceiveBuffers(8, capacity: 44 + 2048)
        try h.send(H.guestHeader(.creditUpdate, from: 77, to: 6000, bufferAllocation: 4096, forwardCount: 8192))
        received += try h.receive().flatMap(\.payload)
        #expect(received == data)
    }

    /// One read fills several receive buffers in order; the ones it did not need go
    /// back to the ring and carry the next data.
    @Test func oneReadFillsSeveralBuffersAndReturnsTheRest() throws {
        var h = try H()
        let end = try h.openGuestConnection(from: 55, to: 6005, buffers: 1)
        defer { end.close() }
        let peer = end.peer
        h.postReceiveBuffers(4, capacity: 44 + 2048)
        let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 13) }
        H.send(peer, data)
        h.fireConnections()
        var packets = try h.receive()
        #expect(packets.map(\.payload.count) == [2048, 952])
        #expect(packets.flatMap(\.payload) == data)
        H.send(peer, [1, 2, 3])
        h.fireConnections()
        packets = try h.receive()
        #expect(packets.map(\.payload) == [[1, 2, 3]])
        #expect(h.rx.usedIndex == 4, "the fourth buffer is still the guest's")
    }

    /// Guest → host: bytes the host socket cannot take wait (EPOLLOUT watched), our
    /// fwd_cnt grows only as they are written, a credit update follows, and a guest
    /// overrunning our credit is reset.
    @Test func guestDataIsBufferedCreditedAndOverrunIsReset() throws {
        var h = try H()
        let end = try h.openGuestConnection(from: 88, to: 6001, buffers: 16)
        defer { end.close() }
        let peer = end.peer
        let fd = try #require(h.connectionFDs.first)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let chunk = 32 << 10
        var sent: [UInt8] = []
        for i in 0..<Int(VsockConnection.bufferSize) / chunk {
            let payload = [UInt8](repeating: UInt8(i), count: chunk)
            sent += payload
            try h.send(H.guestHeader(.readWrite, from: 88, to: 6001, length: chunk), payload: payload)
        }
        #expect(h.registry.events(of: fd) == [.input, .output], "EPOLLOUT is watched while output waits")
        let waiting = h.device.state.withLock { $0.connections.values.first!.output.count }
        #expect(waiting > 0)
        var got: [UInt8] = []
        while got.count < sent.count {
            got += H.readAvailable(peer) ?? []
            h.registry.fire(fd, .output)
        }
        #expect(got == sent)
        #expect(h.registry.events(of: fd) == .input)
        let update = try h.receive().last
        #expect(update?.header.knownOperation == .creditUpdate)
        #expect(update?.header.forwardCount == UInt32(sent.count))

        for i in 0...Int(VsockConnection.bufferSize) / chunk + 2 {
            try h.send(H.guestHeader(.readWrite, from: 88, to: 6001, length: chunk),
                       payload: [UInt8](repeating: UInt8(i), count: chunk))
        }
        #expect(h.connectionFDs.isEmpty, "the overrun closed the connection")
        #expect(try h.receive().map(\.header.knownOperation).contains(.reset))
    }

    /// The guest half-closes; the host answers and closes; the connection then ends.
    @Test func halfCloseInBothDirections() throws {
        var h = try H()
        let end = try h.openGuestConnection(from: 99, to: 6002)
        defer { end.close(peerClosed: true) }
        let peer = end.peer
        try h.send(H.guestHeader(.readWrite, from: 99, to: 6002, length: 3), payload: [1, 2, 3])
        try h.send(H.guestHeader(.shutdown, from: 99, to: 6002, flags: VsockHeader.ShutdownFlag.send))
        #expect(H.readAvailable(peer) == [1, 2, 3])
        #expect(H.readAvailable(peer) == nil, "the guest's SHUTDOWN(send) is end of file for the host")
        H.send(peer, Array("bye".utf8))
        close(peer)
        h.fireConnections()
        let packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == [.readWrite, .reset])
        #expect(packets.first?.payload == Array("bye".utf8))
        #expect(h.connectionFDs.isEmpty)

        let end2 = try h.openGuestConnection(from: 100, to: 6003, buffers: 0)
        defer { end2.close(peerClosed: true) }
        let peer2 = end2.peer
        shutdown(peer2, Int32(SHUT_WR))
        h.fireConnections()
        let shutdownHeader = try #require(try h.receive().first?.header)
        #expect(shutdownHeader.knownOperation == .shutdown && shutdownHeader.flags == VsockHeader.ShutdownFlag.send)
        try h.send(H.guestHeader(.readWrite, from: 100, to: 6003, length: 2), payload: [9, 9])
        #expect(H.readAvailable(peer2) == [9, 9], "the guest may still send after the host's end of file")
        close(peer2)
    }

    /// Hostile or broken packets: dropped or answered with RST, never a crash or a
    /// thrown ring error; an rx buffer too small for a header is a ring violation.
    @Test func hostilePacketsNeverStopTheDevice() throws {
        var h = try H()
        h.postReceiveBuffers(5)
        try h.send(H.guestHeader(.request, from: 1, to: 2), raw: [UInt8](repeating: 0xFF, count: 20))
        var spoofed = H.guestHeader(.request, from: 1, to: 7000)
        spoofed.sourceCID = 9
        try h.send(spoofed)
        #expect(try h.receive().isEmpty, "short and spoofed packets are dropped")

        var elsewhere = H.guestHeader(.request, from: 2, to: 7000)
        elsewhere.destinationCID = 42
        try h.send(elsewhere)
        var seqpacket = H.guestHeader(.request, from: 3, to: 7000)
        seqpacket.type = 2
        try h.send(seqpacket)
        var unknown = H.guestHeader(.request, from: 4, to: 7000)
        unknown.operation = 99
        try h.send(unknown)
        try h.send(H.guestHeader(.readWrite, from: 5, to: 7000, length: 60_000), payload: [1, 2, 3])
        try h.send(H.guestHeader(.readWrite, from: 6, to: 7000, length: 3), payload: [1, 2, 3])
        try h.send(H.guestHeader(.reset, from: 7, to: 7000))
        let packets = try h.receive()
        #expect(packets.map(\.header.knownOperation) == Array(repeating: .reset, count: 5))
        #expect(packets.map(\.header.destinationPort) == [2, 3, 4, 5, 6])
        #expect(packets.first?.header.sourceCID == 42, "the RST comes from the CID the guest addressed")

        h.rx.add(readable: [], writable: [(VsockHarness.rxBuffers, 16)])
        try h.send(H.guestHeader(.readWrite, from: 8, to: 7000))
        #expect(throws: VirtioError.self) {
            try h.device.process(queue: &h.rxQueue, index: VsockDevice.receiveQueue, memory: h.ram)
        }
    }

    @Test func driverResetClosesConnectionsButKeepsListening() throws {
        var h = try H()
        let server = H.listen(at: "\(h.uds)_6004")
        defer { close(server); unlink("\(h.uds)_6004") }
        h.postReceiveBuffers(4)
        try h.send(H.guestHeader(.request, from: 1, to: 6004))
        let peer = accept(server, nil, nil)
        defer { close(peer) }
        let client = H.connect(to: h.uds)
        defer { close(client) }
        h.registry.fire(h.device.listener)
        h.device.reset()
        #expect(H.readAvailable(peer) == nil && H.readAvailable(client) == nil)
        #expect(h.registry.watchedFDs == [h.device.listener])
        #expect(try h.receive().isEmpty, "nothing queued survives a reset")
    }
}
