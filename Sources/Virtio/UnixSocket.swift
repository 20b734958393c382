#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The host side's Unix stream sockets (unix(7)), all non-blocking and close-on-exec,
/// and the I/O the vsock device does on them: `MSG_NOSIGNAL` writes (a peer that went
/// away is an `EPIPE`, never a SIGPIPE to the VMM) and scatter/gather straight from and
/// into guest buffers.
enum UnixSocket {
    /// Longest path that fits `sockaddr_un.sun_path` with its terminating NUL.
    static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// The outcome of one non-blocking read or write.
    enum Transfer: Equatable {
        case done(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    static func address(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumPathLength else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            for (i, byte) in bytes.enumerated() { target[i] = byte }
        }
        return address
    }

    static func newSocket() -> Int32 {
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    private static func withAddress<T>(_ address: inout sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Connects to the listener at `path`; returns the connected fd or the errno.
    static func connect(path: String) -> Result<Int32, VirtioError> {
        guard var address = address(path) else { return .failure(.system(call: "connect(\(path))", errno: ENAMETOOLONG)) }
        let fd = newSocket()
        guard fd >= 0 else { return .failure(.system(call: "socket", errno: errno)) }
        var result: Int32
        repeat {
            result = withAddress(&address) { Glibc.connect(fd, $0, $1) }
        } while result < 0 && errno == EINTR
        guard result == 0 else {
            let code = errno
            close(fd)
            return .failure(.system(call: "connect(\(path))", errno: code))
        }
        return .success(fd)
    }

    /// Binds and listens at `path`. A socket file left there by a VMM that is gone (no
    /// one accepts on it) is replaced; anything else at `path` is an error.
    static func listen(path: String) throws(VirtioError) -> Int32 {
        guard var address = address(path) else {
            throw .configuration("vsock uds path \"\(path)\" must be 1...\(maximumPathLength) bytes")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            let isSocket = status.st_mode & S_IFMT == S_IFSOCK
            if case .success(let fd) = connect(path: path) {
                close(fd)
                throw .configuration("vsock uds path \(path) is in use by another process")
            }
            guard isSocket else { throw .configuration("vsock uds path \(path) exists and is not a socket") }
            unlink(path)
        }
        let fd = newSocket()
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        guard withAddress(&address, { bind(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw .configuration("vsock uds path \(path): cannot bind: \(String(cString: strerror(code)))")
        }
        guard Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            unlink(path)
            throw .system(call: "listen(\(path))", errno: code)
        }
        return fd
    }

    /// Accepts one pending connection (made non-blocking and close-on-exec; Glibc's
    /// Swift module has no accept4); nil when there is none (or accept failed).
    static func accept(_ listener: Int32) -> Int32? {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return fd
            }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    static func iovecs(_ buffers: [UnsafeMutableRawBufferPointer]) -> [iovec] {
        buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
    }

    /// Writes `buffers` in order (gather); `.done` may be short.
    static func write(_ fd: Int32, _ buffers: [UnsafeMutableRawBufferPointer]) -> Transfer {
        var vectors = iovecs(buffers)
        while true {
            let n = vectors.withUnsafeMutableBufferPointer { vectors in
                var message = msghdr()
                message.msg_iov = vectors.baseAddress
                message.msg_iovlen = vectors.count
                return sendmsg(fd, &message, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n >= 0 { return .done(n) }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno)
        }
    }

    /// Writes one contiguous buffer.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Transfer {
        write(fd, [UnsafeMutableRawBufferPointer(mutating: bytes)])
    }

    /// Reads into `buffers` in order (scatter).
    static func read(_ fd: Int32, into buffers: [UnsafeMutableRawBufferPointer]) -> Transfer {
        let vectors = iovecs(buffers)
        while true {
            let n = vectors.withUnsafeBufferPointer { readv(fd, $0.baseAddress, Int32($0.count)) }
            if n > 0 { return .done(n) }
            if n == 0 { return .endOfFile }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno)
        }
    }
}
