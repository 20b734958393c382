import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The host side of a guest vsock connection through the VMM's Unix socket, Firecracker's
/// protocol (firecracker docs/vsock.md, "Host-Initiated Connections"): connect to the
/// `uds` path, write `CONNECT <port>\n`, read `OK <hostport>\n`; after that the socket is
/// the stream to the guest's listener.
public enum VsockUnixConnector {
    /// Connects to guest `port` and returns the connected fd (close-on-exec). Retries
    /// (every 10 ms) while the socket does not exist yet, the VMM refuses, or the guest is
    /// not listening yet (the VMM closes the connection instead of answering OK), until
    /// `timeout` has passed; then throws naming the last failure.
    public static func connect(udsPath: String, port: UInt32, timeout: Duration) throws(SwiftletError) -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let failure: SwiftletError
            do throws(SwiftletError) {
                return try attempt(udsPath: udsPath, port: port)
            } catch {
                failure = error
            }
            if clock.now >= deadline {
                throw SwiftletError("cannot reach the guest agent on vsock port \(port) through \(udsPath) within \(timeout): \(failure)", code: .unavailable)
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            _ = nanosleep(&pause, nil)
        }
    }

    /// One connection and handshake.
    static func attempt(udsPath: String, port: UInt32) throws(SwiftletError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SwiftletError("socket(AF_UNIX)", errno: errno) }
        do throws(SwiftletError) {
            try connectUnix(fd, path: udsPath)
            try sendAll(fd, Array("CONNECT \(port)\n".utf8))
            let line = try readLine(fd)
            guard line.hasPrefix("OK "), UInt32(line.dropFirst(3)) != nil else {
                throw SwiftletError("unexpected vsock handshake reply '\(line)'")
            }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    static func connectUnix(_ fd: Int32, path: String) throws(SwiftletError) {
        try UnixSocketAddress(path).connect(fd)
    }

    /// Reads one `\n`-terminated line byte by byte (nothing after it is consumed).
    static func readLine(_ fd: Int32) throws(SwiftletError) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 64 {
            let count = retryingEINTR { read(fd, &byte, 1) }
            if count < 0 { throw SwiftletError("read the vsock handshake", errno: errno) }
            if count == 0 { throw SwiftletError("the VMM closed the connection (the guest is not listening yet)") }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        throw SwiftletError("vsock handshake reply longer than 64 bytes")
    }
}
