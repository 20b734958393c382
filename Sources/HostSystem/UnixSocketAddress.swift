#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A Unix socket's address (unix(7) `sockaddr_un`) for a path of 1 to
/// ``maximumPathLength`` bytes, and `connect(2)`/`bind(2)` with it.
public struct UnixSocketAddress {
    /// Longest path that fits `sun_path` with its terminating NUL.
    public static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    public let path: String
    private var address = sockaddr_un()

    /// Fails (ENAMETOOLONG, or EINVAL for an empty path) naming the path.
    public init(_ path: String) throws(SwiftletError) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { throw SwiftletError("socket path \"\(path)\"", errno: .invalidArgument) }
        guard bytes.count <= Self.maximumPathLength else {
            throw SwiftletError("socket path \(path) (at most \(Self.maximumPathLength) bytes)", errno: .fileNameTooLong)
        }
        self.path = path
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    /// Calls `body` with the address as a `sockaddr` and its length.
    public func withSockaddr<T, E: Error>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> T) throws(E) -> T {
        var copy = address
        return try withUnsafePointer(to: &copy) { pointer throws(E) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddr throws(E) in
                try body(sockaddr, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// connect(2) of `fd` to this address, retrying EINTR.
    public func connect(_ fd: Int32) throws(SwiftletError) {
        let result = withSockaddr { address, length in
            var result: Int32
            repeat { result = Glibc.connect(fd, address, length) } while result < 0 && errno == EINTR
            return result
        }
        if result < 0 { throw .last("connect \(path)") }
    }

    /// bind(2) of `fd` to this address.
    public func bind(_ fd: Int32) throws(SwiftletError) {
        if withSockaddr({ Glibc.bind(fd, $0, $1) }) < 0 { throw .last("bind \(path)") }
    }

    /// A new AF_UNIX stream socket, close-on-exec (and non-blocking when asked).
    public static func streamSocket(nonBlocking: Bool = false) throws(SwiftletError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                        | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0), 0)
        guard fd >= 0 else { throw .last("socket(AF_UNIX)") }
        return fd
    }

    /// Makes blocking receives and/or sends (`SO_RCVTIMEO`, `SO_SNDTIMEO`) on `fd` fail
    /// with EAGAIN after `seconds` (0: block for ever).
    public static func setTimeout(_ fd: Int32, seconds: Int, for options: [Int32]) {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        for option in options {
            _ = setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
    }
}
