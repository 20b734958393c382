#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Non-blocking scatter/gather I/O between host fds (sockets, a TAP) and guest
/// buffers, without copies: the buffers are the host views of descriptor segments.
enum HostIO {
    /// The outcome of one non-blocking read or write.
    enum Transfer: Equatable {
        case done(Int)
        case wouldBlock
        case endOfFile
        case failed(Int32)
    }

    static func iovecs(_ buffers: [UnsafeMutableRawBufferPointer]) -> [iovec] {
        buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
    }

    /// Sends `buffers` in order on a socket (gather) with `MSG_NOSIGNAL`: a peer that
    /// went away is `.failed(EPIPE)`, never a SIGPIPE to the VMM. `.done` may be short.
    static func send(_ fd: Int32, _ buffers: [UnsafeMutableRawBufferPointer]) -> Transfer {
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

    /// Sends one contiguous buffer on a socket.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Transfer {
        send(fd, [UnsafeMutableRawBufferPointer(mutating: bytes)])
    }

    /// Writes `buffers` in order with writev(2) (one TAP frame, for instance).
    static func write(_ fd: Int32, _ buffers: [UnsafeMutableRawBufferPointer]) -> Transfer {
        let vectors = iovecs(buffers)
        while true {
            let n = vectors.withUnsafeBufferPointer { writev(fd, $0.baseAddress, Int32($0.count)) }
            if n >= 0 { return .done(n) }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno)
        }
    }

    /// Reads into `buffers` in order (scatter) with readv(2).
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
