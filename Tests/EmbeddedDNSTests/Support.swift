import Foundation
import HostSystem
import Synchronization
import Testing
@testable import EmbeddedDNS

/// Sockets on loopback for the server tests: any 127/8 address is local, so a client can
/// bind the address of the container it plays.
enum Loopback {
    /// A UDP socket bound to `address` (port chosen by the kernel).
    static func udpSocket(boundTo address: String, port: UInt16 = 0) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SwiftletError.last("socket") }
        var local = SocketAddress.ipv4(IPv4Address(address)!, port: port)
        let result = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw SwiftletError.last("bind \(address):\(port)")
        }
        return fd
    }

    /// Waits up to `seconds` for `fd` to be readable.
    static func readable(_ fd: Int32, seconds: Int32 = 10) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, seconds * 1000) == 1
    }

    /// Sends `query` from `source` to `server`:`port` over UDP; the parsed reply, nil when
    /// none came within 10 s.
    static func ask(_ query: [UInt8], from source: String, to server: String, port: UInt16) throws -> DNSMessage? {
        let fd = try udpSocket(boundTo: source)
        defer { close(fd) }
        var destination = SocketAddress.ipv4(IPv4Address(server)!, port: port)
        // Connected: only the server's datagrams arrive, and a port nobody listens on
        // fails the receive at once (ECONNREFUSED).
        let connected = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let sent = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard connected == 0, sent == query.count, readable(fd) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? try DNSMessage(parsing: Array(buffer[..<count])) : nil
    }

    /// Asks for `name`'s A (or `type`) records from `source`; the reply.
    static func ask(_ name: String, type: UInt16 = DNSMessage.typeA, from source: String, to server: String, port: UInt16)
        throws -> DNSMessage {
        let query = try DNSMessageTests.query(name, type: type, id: UInt16.random(in: 1...0xFFFF))
        let reply = try #require(try ask(query, from: source, to: server, port: port), "no reply to \(name) from \(source)")
        #expect(reply.id == DNSMessage.id(of: query) && reply.isResponse)
        return reply
    }

    /// The same over TCP (a 2-byte length before each message).
    static func askOverTCP(_ name: String, from source: String, to server: String, port: UInt16) throws -> DNSMessage? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(fd) }
        var local = SocketAddress.ipv4(IPv4Address(source)!, port: 0)
        var remote = SocketAddress.ipv4(IPv4Address(server)!, port: port)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }) == 0,
              withUnsafePointer(to: &remote, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } }) == 0
        else { return nil }
        let query = try DNSMessageTests.query(name, id: 99)
        try Descriptors.writeAll(fd, [0, UInt8(query.count)] + query)
        UnixSocketAddress.setTimeout(fd, seconds: 10, for: [SO_RCVTIMEO])
        var prefix = [UInt8](repeating: 0, count: 2)
        guard Descriptors.readFully(fd, &prefix) else { return nil }
        var reply = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
        guard Descriptors.readFully(fd, &reply) else { return nil }
        return try DNSMessage(parsing: reply)
    }
}

/// A value several threads share.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    var current: Value { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
}

/// A stand-in for the host's resolver: answers every query with A 192.0.2.1 over UDP and
/// A 192.0.2.2 over TCP, until stopped.
final class FakeUpstream: Sendable {
    private let udp: Int32
    private let tcp: Int32
    private let stopped = Shared(false)
    private let thread: PosixThread

    init(address: String, port: UInt16) throws {
        let udp = try Loopback.udpSocket(boundTo: address, port: port)
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var on: Int32 = 1
        setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var local = SocketAddress.ipv4(IPv4Address(address)!, port: port)
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, size) } }) == 0,
              listen(tcp, 8) == 0 else { throw SwiftletError.last("bind TCP \(address):\(port)") }
        let stopped = stopped
        (self.udp, self.tcp) = (udp, tcp)
        thread = try PosixThread {
            var buffer = [UInt8](repeating: 0, count: 65535)
            while !stopped.current {
                var entries = [pollfd(fd: udp, events: Int16(POLLIN), revents: 0), pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)]
                guard poll(&entries, 2, 100) > 0 else { continue }
                if entries[1].revents != 0 {
                    let client = accept(tcp, nil, nil)
                    var prefix = [UInt8](repeating: 0, count: 2)
                    if client >= 0, Descriptors.readFully(client, &prefix) {
                        var query = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
                        if Descriptors.readFully(client, &query), let message = try? DNSMessage(parsing: query) {
                            let reply = DNSMessage.response(to: message, code: .noError, addresses: [IPv4Address("192.0.2.2")!]).encoded()
                            _ = StreamSocket.sendAll(client, [0, UInt8(reply.count)] + reply)
                        }
                    }
                    if client >= 0 { close(client) }
                }
                guard entries[0].revents != 0 else { continue }
                var source = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let count = buffer.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, raw.baseAddress, raw.count, 0, $0, &length) }
                    }
                }
                guard count > 0, let query = try? DNSMessage(parsing: Array(buffer[..<count])) else { continue }
                let reply = DNSMessage.response(to: query, code: .noError, addresses: [IPv4Address("192.0.2.1")!]).encoded()
                _ = reply.withUnsafeBytes { raw in
                    withUnsafePointer(to: &source) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, raw.baseAddress, raw.count, 0, $0, length) }
                    }
                }
            }
        }
    }

    func stop() {
        stopped.set(true)
        thread.join()
        close(udp)
        close(tcp)
    }
}

/// A ``DNSServer`` running on a thread of this process.
final class ServerThread: Sendable {
    let directory: String
    private let thread: PosixThread
    private let outcome = Shared<Result<DNSServer.Outcome, SwiftletError>?>(nil)

    /// Starts the server and waits (10 s at most) for its control socket.
    init(directory: String, resolvConf: String, upstreamPort: UInt16) throws {
        self.directory = directory
        let outcome = outcome
        thread = try PosixThread {
            let server = DNSServer(directory: directory, resolvConf: resolvConf, upstreamPort: upstreamPort)
            outcome.set(Result { () throws(SwiftletError) in try server.run() })
        }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: directory + "/control.sock") && outcome.current == nil {
            usleep(50_000)
        }
    }

    /// How the server ended, waiting for it.
    func wait() -> Result<DNSServer.Outcome, SwiftletError>? {
        thread.join()
        return outcome.current
    }
}
