import Foundation
import HostSystem

/// The host's resolvers as a stub resolver sees them (the `nameserver` lines of
/// resolv.conf(5)), and one query's exchange with them over UDP (RFC 1035 §4.2.1) or, for
/// a query that came over TCP, TCP (§4.2.2): each in turn on a fresh socket connected to
/// it, so only its replies arrive, until one sends a response with the query's ID.
struct Forwarder: Sendable {
    /// Usually /etc/resolv.conf.
    let resolvConf: String
    /// The upstream resolvers' port: 53, another only in tests.
    let port: UInt16
    /// How long each resolver gets to answer.
    let timeoutMilliseconds: Int32

    /// The numeric addresses of the `nameserver` lines, in order (IPv4 or IPv6; a line
    /// that is neither is skipped).
    func nameservers() -> [SocketAddress] {
        guard let text = try? String(contentsOfFile: resolvConf, encoding: .utf8) else { return [] }
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "nameserver" else { return nil }
            return SocketAddress(String(words[1]), port: port)
        }
    }

    /// The first reply any resolver gives `query`, nil when none is configured or none
    /// answered in time. Over TCP when `overTCP` (a truncated UDP answer made the client
    /// ask again over TCP, so the full answer is wanted).
    func exchange(_ query: [UInt8], overTCP: Bool = false) -> [UInt8]? {
        guard let id = DNSMessage.id(of: query) else { return nil }
        for server in nameservers() {
            if let reply = overTCP ? exchangeOverTCP(query, id: id, with: server) : exchange(query, id: id, with: server) {
                return reply
            }
        }
        return nil
    }

    /// One exchange over TCP: the 2-byte length before each message; connecting, sending
    /// and each receive get the timeout.
    private func exchangeOverTCP(_ query: [UInt8], id: UInt16, with server: SocketAddress) -> [UInt8]? {
        let fd = socket(server.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, query.count <= 0xFFFF else { return nil }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        for option in [SO_SNDTIMEO, SO_RCVTIMEO] {
            setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        var prefix = [UInt8](repeating: 0, count: 2)
        guard server.withSockaddr({ connect(fd, $0, $1) }) == 0,
              StreamSocket.sendAll(fd, [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query),
              Descriptors.readFully(fd, &prefix) else { return nil }
        var reply = [UInt8](repeating: 0, count: Int(prefix[0]) << 8 | Int(prefix[1]))
        guard Descriptors.readFully(fd, &reply), reply.count >= 12, DNSMessage.id(of: reply) == id, reply[2] & 0x80 != 0 else { return nil }
        return reply
    }

    private func exchange(_ query: [UInt8], id: UInt16, with server: SocketAddress) -> [UInt8]? {
        let fd = socket(server.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard server.withSockaddr({ connect(fd, $0, $1) }) == 0,
              query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else { return nil }
        let deadline = Monotonic.milliseconds() + Int64(timeoutMilliseconds)
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            let remaining = deadline - Monotonic.milliseconds()
            guard remaining > 0 else { return nil }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, Int32(remaining))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            // ECONNREFUSED (nothing listens there) ends this resolver's turn.
            guard count >= 0 else { return nil }
            let reply = Array(buffer[..<count])
            if count >= 12, DNSMessage.id(of: reply) == id, reply[2] & 0x80 != 0 { return reply }
        }
    }
}

/// An IPv4 or IPv6 socket address (ip(7) `sockaddr_in`, ipv6(7) `sockaddr_in6`).
enum SocketAddress: Sendable {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    /// A numeric address and a port; nil when `text` is neither an IPv4 nor an IPv6 address.
    init?(_ text: String, port: UInt16) {
        if let address = IPv4Address(text) {
            self = .v4(Self.ipv4(address, port: port))
            return
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, text, &address.sin6_addr) == 1 else { return nil }
        self = .v6(address)
    }

    static func ipv4(_ address: IPv4Address, port: UInt16) -> sockaddr_in {
        var result = sockaddr_in()
        result.sin_family = sa_family_t(AF_INET)
        result.sin_port = port.bigEndian
        result.sin_addr.s_addr = address.networkOrder
        return result
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        switch self {
        case .v4(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

/// Writing to a connected stream socket with MSG_NOSIGNAL (send(2)): a peer that has gone
/// away makes the write fail with EPIPE instead of raising SIGPIPE, which would end the
/// server, or the daemon calling ``DNSControl``.
enum StreamSocket {
    /// Sends all of `bytes`, retrying EINTR and short sends; false when the send fails.
    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }
}

/// CLOCK_MONOTONIC in milliseconds, for deadlines.
enum Monotonic {
    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
