#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The host side of ``VsockDevice``: the listener, `CONNECT` handshakes, and moving
/// bytes between guest packets and host Unix sockets. Everything runs with the device's
/// state locked, on the device thread (`reset` aside, which a vCPU may call).
extension VsockDevice {
    /// Longest `CONNECT <port>\n` line accepted.
    static let connectLineLimit = 32

    func watch(_ fd: Int32, for events: HostEvents, context: DeviceContext) throws(VirtioError) {
        try context.events.watch(fd, for: events) { [weak self] ready in self?.hostEvent(fd: fd, events: ready) }
    }

    /// A watched host fd became ready (device thread).
    func hostEvent(fd: Int32, events: HostEvents) {
        let wake = state.withLock { s in
            if fd == listener {
                acceptClients(state: &s)
            } else if s.handshakes.contains(fd) {
                readConnectLine(fd, state: &s)
            } else if let key = s.connectionsByFD[fd], let connection = s.connections[key] {
                if events.contains(.output) { flush(connection, state: &s) }
                if events.contains(.input) { connection.hostReadable = true }
            }
            return Self.hasPacketForGuest(s)
        }
        if wake { state.withLock { $0.context }?.wakeQueue(Self.receiveQueue) }
    }

    private func acceptClients(state s: inout State) {
        while let fd = VsockUnixSocket.accept(listener) {
            guard s.handshakes.count + s.connections.count < Self.connectionLimit, let context = s.context else {
                close(fd)
                continue
            }
            do {
                try watch(fd, for: .input, context: context)
                s.handshakes.insert(fd)
            } catch {
                close(fd)
            }
        }
    }

    /// Takes a client's `CONNECT <port>\n` line once it is complete (peeking first, so
    /// no byte after the newline is consumed); a malformed line closes the client.
    private func readConnectLine(_ fd: Int32, state s: inout State) {
        var line = [UInt8](repeating: 0, count: Self.connectLineLimit)
        let peeked = line.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) }
        if peeked < 0 && (errno == EAGAIN || errno == EINTR) { return }
        guard peeked > 0, let end = line[0..<peeked].firstIndex(of: UInt8(ascii: "\n")) else {
            if peeked <= 0 || peeked == Self.connectLineLimit { drop(fd, state: &s) }
            return
        }
        _ = line.withUnsafeMutableBytes { recv(fd, $0.baseAddress, end + 1, Int32(MSG_DONTWAIT)) }
        s.handshakes.remove(fd)
        let words = String(decoding: line[0..<end], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard words.count == 2, words[0] == "CONNECT", let port = UInt32(words[1]),
              let localPort = allocateEphemeralPort(state: s) else {
            return drop(fd, state: &s)
        }
        s.nextEphemeralPort = localPort == UInt32.max ? Self.firstEphemeralPort : localPort + 1
        let key = VsockConnectionKey(localPort: localPort, peerPort: port)
        add(VsockConnection(fd: fd, key: key, phase: .requested), state: &s)
        queueControl(ControlPacket(key: key, operation: .request), state: &s)
    }

    private func allocateEphemeralPort(state s: State) -> UInt32? {
        var candidate = s.nextEphemeralPort
        for _ in 0...Self.connectionLimit {
            if !s.connections.keys.contains(where: { $0.localPort == candidate }) { return candidate }
            candidate = candidate == UInt32.max ? Self.firstEphemeralPort : candidate + 1
        }
        return nil
    }

    private func add(_ connection: VsockConnection, state s: inout State) {
        s.connections[connection.key] = connection
        s.connectionsByFD[connection.fd] = connection.key
    }

    /// The guest asked for host port `key.localPort`: connect to `<udsPath>_<port>`.
    func openGuestConnection(_ key: VsockConnectionKey, header: VsockHeader, state s: inout State) {
        guard s.handshakes.count + s.connections.count < Self.connectionLimit, let context = s.context,
              case .success(let fd) = VsockUnixSocket.connect(path: "\(udsPath)_\(key.localPort)") else {
            return queueControl(ControlPacket(key: key, operation: .reset), state: &s)
        }
        do {
            try watch(fd, for: .input, context: context)
        } catch {
            close(fd)
            return queueControl(ControlPacket(key: key, operation: .reset), state: &s)
        }
        let connection = VsockConnection(fd: fd, key: key, phase: .established)
        connection.absorbCredit(from: header)
        add(connection, state: &s)
        queueControl(ControlPacket(key: key, operation: .response), state: &s)
    }

    /// The guest accepted a host-initiated connection: tell the client `OK <hostport>`.
    func completeHostConnection(_ connection: VsockConnection, state s: inout State) {
        let line = Array("OK \(connection.key.localPort)\n".utf8)
        guard line.withUnsafeBytes({ HostIO.send(connection.fd, $0) }) == .done(line.count) else {
            return reset(connection.key, state: &s)
        }
        connection.phase = .established
        connection.hostReadable = true
    }

    /// Writes guest data to the host socket; what it cannot take now waits in the
    /// connection's output (never more than our advertised buffer: a guest that
    /// overruns its credit gets RST).
    func forward(_ buffers: [UnsafeMutableRawBufferPointer], on connection: VsockConnection, state s: inout State) {
        let total = buffers.reduce(0) { $0 + $1.count }
        guard total > 0 else { return }
        var written = 0
        if connection.output.isEmpty {
            switch HostIO.send(connection.fd, buffers) {
            case .done(let count): written = count
            case .wouldBlock, .endOfFile: break
            case .failed: return reset(connection.key, state: &s)
            }
        }
        guard connection.output.count + total - written <= Int(VsockConnection.bufferSize) else {
            return reset(connection.key, state: &s)
        }
        var skip = written
        for buffer in buffers {
            if skip >= buffer.count {
                skip -= buffer.count
                continue
            }
            connection.output.append(UnsafeRawBufferPointer(rebasing: buffer[skip...]))
            skip = 0
        }
        connection.forwarded(written)
        watchOutput(connection, state: &s)
    }

    /// Writes waiting output after the host socket became writable.
    func flush(_ connection: VsockConnection, state s: inout State) {
        var failed = false
        while !connection.output.isEmpty && !failed {
            var written = 0
            connection.output.drain { bytes in
                switch HostIO.send(connection.fd, bytes) {
                case .done(let count): written = count
                case .wouldBlock, .endOfFile: break
                case .failed: failed = true
                }
                return written
            }
            if written == 0 { break }
            connection.forwarded(written)
        }
        if failed { return reset(connection.key, state: &s) }
        watchOutput(connection, state: &s)
        settleShutdown(connection, state: &s)
    }

    /// Watches for EPOLLOUT exactly while output is waiting.
    private func watchOutput(_ connection: VsockConnection, state s: inout State) {
        let wanted = !connection.output.isEmpty
        guard wanted != connection.watchingOutput, let context = s.context else { return }
        do {
            try context.events.change(connection.fd, to: wanted ? [.input, .output] : .input)
            connection.watchingOutput = wanted
        } catch {
            reset(connection.key, state: &s)
        }
    }

    /// Acts on the guest's SHUTDOWN flags once its data has reached the host: no more
    /// sending → shut the host socket's write side; both directions over → RST and close.
    func settleShutdown(_ connection: VsockConnection, state s: inout State) {
        guard connection.output.isEmpty, s.connections[connection.key] === connection else { return }
        let guestSendsNoMore = connection.guestShutdown & VsockHeader.ShutdownFlag.send != 0
        if connection.guestShutdown == VsockHeader.ShutdownFlag.both || (guestSendsNoMore && connection.hostEnded) {
            return reset(connection.key, state: &s)
        }
        if guestSendsNoMore && !connection.hostWriteClosed {
            shutdown(connection.fd, Int32(SHUT_WR))
            connection.hostWriteClosed = true
        }
    }

    /// Ends connection `key` with an RST to the guest (and closes its host socket).
    func reset(_ key: VsockConnectionKey, state s: inout State) {
        if let connection = s.connections[key] { drop(connection.fd, state: &s) }
        queueControl(ControlPacket(key: key, operation: .reset), state: &s)
    }

    /// Stops watching and closes a host fd, forgetting whatever used it.
    func drop(_ fd: Int32, state s: inout State) {
        s.context?.events.unwatch(fd)
        s.handshakes.remove(fd)
        if let key = s.connectionsByFD.removeValue(forKey: fd) { s.connections[key] = nil }
        close(fd)
    }
}
