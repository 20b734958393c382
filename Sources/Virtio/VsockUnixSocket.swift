import HostSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The vsock device's host side Unix stream sockets (unix(7)), all non-blocking and
/// close-on-exec: listening, accepting, connecting.
enum VsockUnixSocket {
    static func newSocket() -> Int32 {
        (try? UnixSocketAddress.streamSocket(nonBlocking: true)) ?? -1
    }

    /// Connects to the listener at `path`; returns the connected fd or the errno.
    static func connect(path: String) -> Result<Int32, VirtioError> {
        guard let address = try? UnixSocketAddress(path) else {
            return .failure(.system(call: "connect(\(path))", errno: ENAMETOOLONG))
        }
        let fd = newSocket()
        guard fd >= 0 else { return .failure(.system(call: "socket", errno: errno)) }
        do {
            try address.connect(fd)
        } catch {
            close(fd)
            return .failure(.system(call: "connect(\(path))", errno: error.errno?.rawValue ?? EIO))
        }
        return .success(fd)
    }

    /// Binds and listens at `path`. A socket file left there by a VMM that is gone (no
    /// one accepts on it) is replaced; anything else at `path` is an error.
    static func listen(path: String) throws(VirtioError) -> Int32 {
        guard let address = try? UnixSocketAddress(path) else {
            throw .configuration("vsock uds path \"\(path)\" must be 1...\(UnixSocketAddress.maximumPathLength) bytes")
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
        do {
            try address.bind(fd)
        } catch {
            close(fd)
            throw .configuration("vsock uds path \(path): cannot bind: \(error.errno.map { "\($0)" } ?? error.message)")
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
}
