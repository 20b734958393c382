import Foundation
import Synchronization
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A microVM container's control socket (`control.sock` in its run directory): how
/// `kill`/`stop` in other processes reach the container's monitor, which holds the main
/// agent session, the only one that can signal the container's init. A request is one
/// signal number (u32 little-endian); the reply one byte, 0 when delivered.
final class ControlSocket: Sendable {
    let path: String
    private let listener: Int32

    /// Listens on `path` and calls `deliver` for every signal request, on a thread of its own.
    init(path: String, deliver: @escaping @Sendable (Int32) -> Bool) throws {
        self.path = path
        unlink(path)
        listener = try UnixSocketAddress.streamSocket()
        do {
            try UnixSocketAddress(path).bind(listener)
            try sys("listen \(path)") { listen(listener, 8) }
        } catch {
            Glibc.close(listener)
            throw error
        }
        Thread { [listener] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                var request = [UInt8](repeating: 0, count: 4)
                if Descriptors.readFully(client, &request) {
                    let number = Int32(bitPattern: UInt32(request[0]) | UInt32(request[1]) << 8
                        | UInt32(request[2]) << 16 | UInt32(request[3]) << 24)
                    var reply: UInt8 = deliver(number) ? 0 : 1
                    _ = send(client, &reply, 1, Int32(MSG_NOSIGNAL))
                }
                Glibc.close(client)
            }
        }.start()
    }

    deinit { Glibc.close(listener) }

    /// Stops listening and removes the socket.
    func close() {
        _ = shutdown(listener, Int32(SHUT_RDWR))
        unlink(path)
    }

    /// How long a request may wait for the monitor's reply.
    static let replyTimeout = 30

    /// Asks the monitor listening on `path` to deliver `signal`.
    static func request(_ signal: Int32, path: String) throws {
        let fd = try UnixSocketAddress.streamSocket()
        defer { Glibc.close(fd) }
        UnixSocketAddress.setTimeout(fd, seconds: replyTimeout, for: [SO_RCVTIMEO, SO_SNDTIMEO])
        try UnixSocketAddress(path).connect(fd)
        let value = UInt32(bitPattern: signal)
        var request: [UInt8] = [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
        try sys("send to \(path)") { send(fd, &request, 4, Int32(MSG_NOSIGNAL)) }
        var reply = [UInt8](repeating: 1, count: 1)
        guard Descriptors.readFully(fd, &reply) else {
            throw SwiftletError("the container's monitor did not answer a request for signal \(signal) (it stopped, or took over \(replyTimeout) s)")
        }
        guard reply[0] == 0 else {
            throw SwiftletError("the container's monitor could not deliver signal \(signal)")
        }
    }
}
