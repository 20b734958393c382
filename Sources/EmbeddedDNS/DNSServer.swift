import Foundation
import HostSystem
import Synchronization

/// The embedded DNS server of user-defined container networks (a DNS server in the sense
/// of RFC 1035 §4.2: UDP, §4.2.1, and TCP with a length prefix, §4.2.2): one process for
/// the host, listening on port 53 of every network's gateway address, answering A queries
/// for the names of the containers sharing a network with the asker and forwarding the
/// rest to the host's resolvers (``NetworkRecords`` describes the records). One
/// single-threaded poll(2) loop serves the sockets and `<directory>/control.sock`, where
/// the line `reload` rereads the records (``DNSControl``); forwarded queries and TCP
/// connections get threads of their own. One server per directory: it holds
/// `<directory>/server.lock` while it runs and writes its pid to `server.pid`.
public final class DNSServer {
    /// How ``run()`` ended.
    public enum Outcome: Sendable, Equatable {
        /// No network has containers any more: the control socket and pid file are removed.
        case finished
        /// Another server holds the directory's lock.
        case anotherServerRuns
    }

    /// At most this many forwarded queries and TCP connections at once; more are refused
    /// (SERVFAIL, or the connection closed).
    static let maximumThreads = 64
    private static let threads = Atomic<Int>(0)

    private let directory: String
    private let forwarder: Forwarder
    private var networks: [String: NetworkRecords] = [:]
    private var listeners: [String: Listener] = [:]
    private var control: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 65535)

    private var controlPath: String { "\(directory)/control.sock" }
    private var pidPath: String { "\(directory)/server.pid" }

    /// A server for the record files in `directory`, forwarding to the nameservers of
    /// `resolvConf` on `upstreamPort` (53 but in tests).
    public init(directory: String = NetworkRecords.defaultDirectory, resolvConf: String = "/etc/resolv.conf",
                upstreamPort: UInt16 = 53) {
        self.directory = directory
        forwarder = Forwarder(resolvConf: resolvConf, port: upstreamPort, timeoutMilliseconds: 2000)
    }

    /// Serves until a reload finds no containers (or at once when there are none), then
    /// removes the control socket and the pid file.
    public func run() throws(SwiftletError) -> Outcome {
        try NetworkRecords.makeDirectory(directory)
        guard let lock = try takeLock() else {
            log("another server runs for \(directory)")
            return .anotherServerRuns
        }
        defer { lock.release() }
        try AtomicFile.write(Array("\(getpid())\n".utf8), to: pidPath)
        defer { shutDown() }
        if let failure = reload() { log(failure) }
        guard !networks.isEmpty else {
            log("no containers on any network: exiting")
            return .finished
        }
        try listenForControl()
        log("serving \(networks.count) network(s) from \(directory)")
        while true {
            let sockets: [(network: String, fd: Int32, datagram: Bool)] = listeners.sorted { $0.key < $1.key }.flatMap {
                [($0.key, $0.value.udp, true), ($0.key, $0.value.tcp, false)]
            }
            var entries = [pollfd(fd: control, events: Int16(POLLIN), revents: 0)]
                + sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if poll(&entries, nfds_t(entries.count), -1) < 0 {
                if errno == EINTR { continue }
                throw .last("poll")
            }
            for (index, socket) in sockets.enumerated() where entries[index + 1].revents != 0 {
                if socket.datagram {
                    receiveDatagram(network: socket.network, fd: socket.fd)
                } else {
                    acceptConnection(network: socket.network, fd: socket.fd)
                }
            }
            if entries[0].revents != 0 && serveControl() { return .finished }
        }
    }

    /// Takes `server.lock`, waiting up to 2 s for a server that is exiting; nil when it
    /// stays taken.
    private func takeLock() throws(SwiftletError) -> Lock? {
        let deadline = Monotonic.milliseconds() + 2000
        while true {
            do {
                return try Lock(path: "\(directory)/server.lock", blocking: false)
            } catch {
                guard error.errno == .resourceTemporarilyUnavailable else { throw error }
                if Monotonic.milliseconds() > deadline { return nil }
                usleep(50_000)
            }
        }
    }

    private func listenForControl() throws(SwiftletError) {
        let address = try UnixSocketAddress(controlPath)
        unlink(controlPath)
        control = try UnixSocketAddress.streamSocket(nonBlocking: true)
        try address.bind(control)
        chmod(controlPath, 0o600)
        guard listen(control, 16) == 0 else { throw .last("listen \(controlPath)") }
    }

    private func shutDown() {
        if control >= 0 {
            unlink(controlPath)
            close(control)
        }
        unlink(pidPath)
        for listener in listeners.values { listener.close() }
        listeners = [:]
    }

    /// Rereads the record files, closes the sockets of networks gone (or moved) and binds
    /// those of new ones; the failures, if any, in one line.
    private func reload() -> String? {
        networks = NetworkRecords.all(directory: directory).filter { !$0.value.containers.isEmpty }
        for (id, listener) in listeners where networks[id].map({ $0.gateway != listener.gateway || $0.port != listener.port }) ?? true {
            listener.close()
            listeners[id] = nil
            log("network \(id): stopped listening on \(listener.gateway):\(listener.port)")
        }
        var failures: [String] = []
        for (id, records) in networks.sorted(by: { $0.key < $1.key }) where listeners[id] == nil {
            do {
                listeners[id] = try Listener(gateway: records.gateway, port: records.port)
                log("network \(id) (\(records.network)): listening on \(records.gateway):\(records.port)")
            } catch {
                failures.append("network \(records.network): \(error)")
            }
        }
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    /// Answers one control connection; true when the server is to exit.
    private func serveControl() -> Bool {
        let client = accept(control, nil, nil)
        guard client >= 0 else { return false }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        defer { close(client) }
        UnixSocketAddress.setTimeout(client, seconds: 5, for: [SO_RCVTIMEO, SO_SNDTIMEO])
        let command = readLine(client)
        var reply = "ok"
        var exit = false
        if command == "reload" {
            if let failure = reload() {
                log(failure)
                reply = "error: \(failure)"
            }
            if networks.isEmpty {
                // Gone before the reply, so whoever adds a container next starts a new server.
                log("no containers on any network: exiting")
                unlink(controlPath)
                exit = true
            }
        } else {
            reply = "error: unknown command \"\(command ?? "")\""
        }
        _ = StreamSocket.sendAll(client, Array("\(reply)\n".utf8))
        return exit
    }

    private func receiveDatagram(network: String, fd: Int32) {
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length) }
            }
        }
        guard count >= 0 else { return }
        let query = Array(buffer[..<count])
        let address = IPv4Address(networkOrder: source.sin_addr.s_addr)
        let port = UInt16(bigEndian: source.sin_port)
        switch DNSResolver(networks: networks).decide(query, network: network, source: address) {
        case .reply(let reply):
            Self.send(reply, on: fd, to: address, port: port)
        case .ignore:
            break
        case .forward(let message):
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
            let forwarder = forwarder
            guard copy >= 0, Self.startThread({
                defer { close(copy) }
                let reply = forwarder.exchange(query) ?? DNSMessage.response(to: message, code: .serverFailure).encoded()
                Self.send(reply, on: copy, to: address, port: port)
            }) else {
                if copy >= 0 { close(copy) }
                Self.send(DNSMessage.response(to: message, code: .serverFailure).encoded(), on: fd, to: address, port: port)
                return
            }
        }
    }

    /// Serves one TCP connection on a thread of its own, with a copy of the records as
    /// they are now: queries, each after its 2-byte length, until the client closes or
    /// is idle for 5 s.
    private func acceptConnection(network: String, fd: Int32) {
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let client = withUnsafeMutablePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
        }
        guard client >= 0 else { return }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let resolver = DNSResolver(networks: networks)
        let forwarder = forwarder
        let address = IPv4Address(networkOrder: source.sin_addr.s_addr)
        let started = Self.startThread {
            defer { close(client) }
            UnixSocketAddress.setTimeout(client, seconds: 5, for: [SO_RCVTIMEO, SO_SNDTIMEO])
            var prefix = [UInt8](repeating: 0, count: 2)
            while Descriptors.readFully(client, &prefix) {
                var query = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
                guard Descriptors.readFully(client, &query) else { return }
                let reply: [UInt8]
                switch resolver.decide(query, network: network, source: address) {
                case .reply(let bytes): reply = bytes
                case .ignore: return
                case .forward(let message):
                    reply = forwarder.exchange(query, overTCP: true) ?? DNSMessage.response(to: message, code: .serverFailure).encoded()
                }
                guard StreamSocket.sendAll(client, [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply) else { return }
            }
        }
        if !started { close(client) }
    }

    /// Runs `body` on a detached thread unless ``maximumThreads`` already run; false when
    /// it did not start.
    private static func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        guard threads.add(1, ordering: .relaxed).newValue <= maximumThreads else {
            threads.subtract(1, ordering: .relaxed)
            return false
        }
        do {
            try PosixThread.detached {
                body()
                threads.subtract(1, ordering: .relaxed)
            }
            return true
        } catch {
            threads.subtract(1, ordering: .relaxed)
            return false
        }
    }

    private static func send(_ bytes: [UInt8], on fd: Int32, to address: IPv4Address, port: UInt16) {
        var destination = SocketAddress.ipv4(address, port: port)
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// A line of at most 256 bytes from `fd`, without its newline; nil on EOF or a timeout first.
    private func readLine(_ fd: Int32) -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 256 {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }

    private func log(_ message: String) {
        try? Descriptors.writeAll(2, Array("swiftlet-dns[\(getpid())]: \(message)\n".utf8))
    }
}

/// The UDP socket and TCP listener of one network, bound to its gateway address and port.
private struct Listener {
    let gateway: String
    let port: UInt16
    let udp: Int32
    let tcp: Int32

    init(gateway: String, port: UInt16) throws(SwiftletError) {
        guard let address = IPv4Address(gateway) else {
            throw SwiftletError("gateway \"\(gateway)\" is not an IPv4 address", code: .invalidArgument)
        }
        self.gateway = gateway
        self.port = port
        udp = try Self.bound(Int32(SOCK_DGRAM.rawValue), address, port)
        do {
            tcp = try Self.bound(Int32(SOCK_STREAM.rawValue), address, port)
        } catch {
            Glibc.close(udp)
            throw error
        }
        guard listen(tcp, 64) == 0 else {
            let failure = SwiftletError.last("listen \(gateway):\(port)")
            self.close()
            throw failure
        }
    }

    private static func bound(_ type: Int32, _ address: IPv4Address, _ port: UInt16) throws(SwiftletError) -> Int32 {
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .last("socket") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var local = SocketAddress.ipv4(address, port: port)
        let result = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let failure = SwiftletError.last("bind \(address):\(port)")
            Glibc.close(fd)
            throw failure
        }
        return fd
    }

    func close() {
        Glibc.close(udp)
        Glibc.close(tcp)
    }
}
