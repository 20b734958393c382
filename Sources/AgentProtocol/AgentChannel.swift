import HostSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One agent-protocol session over a connected stream socket (vsock in the guest, the
/// VMM's Unix socket on the host): blocking, EINTR-retrying reads and writes of whole
/// frames. `send` is thread-safe (a stdin pump and a signal forwarder may share the
/// channel); `receive` is meant for one reader thread at a time. The channel owns the fd
/// and closes it in `close()`.
public final class AgentChannel: Sendable {
    public let fd: Int32
    private let sendLock = Mutex(())
    private struct ReceiveState {
        var decoder = AgentFrameDecoder()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
    }
    private let receiveState = Mutex(ReceiveState())

    public init(fd: Int32) {
        self.fd = fd
    }

    /// Writes one message as a whole frame.
    public func send(_ message: AgentMessage) throws(SwiftletError) {
        let frame = message.encode()
        guard frame.count - 4 <= AgentProtocol.maxBodyLength else {
            throw SwiftletError("agent protocol: a kind \(message.kind) message of \(frame.count - 4) bytes exceeds the \(AgentProtocol.maxBodyLength)-byte limit")
        }
        try sendLock.withLock { _ throws(SwiftletError) in
            try sendAll(fd, frame)
        }
    }

    /// The next message, or nil on a clean end of stream (no partial frame pending).
    public func receive() throws(SwiftletError) -> AgentMessage? {
        try receiveState.withLock { state throws(SwiftletError) -> AgentMessage? in
            while true {
                if let message = try state.decoder.next() { return message }
                let count = state.chunk.withUnsafeMutableBytes { buffer in
                    retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
                }
                if count < 0 { throw SwiftletError("read from the agent channel", errno: errno) }
                if count == 0 {
                    guard state.decoder.pendingByteCount == 0 else {
                        throw SwiftletError("agent protocol: connection closed in the middle of a frame (\(state.decoder.pendingByteCount) bytes pending)")
                    }
                    return nil
                }
                state.decoder.append(state.chunk[0..<count])
            }
        }
    }

    /// Ends the write direction (the peer reads end of stream) and keeps reading possible.
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    public func close() {
        _ = Glibc.close(fd)
    }
}

/// Repeats `body` while it fails with EINTR.
func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result >= 0 || errno != EINTR { return result }
    }
}

/// Sends all of `bytes` on `fd` with MSG_NOSIGNAL, so a gone peer is an error, not
/// SIGPIPE (write(2) where `fd` is not a socket).
func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(SwiftletError) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            retryingEINTR { () -> Int in
                let pointer = buffer.baseAddress! + offset
                let sent = Glibc.send(fd, pointer, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == ENOTSOCK { return Glibc.write(fd, pointer, buffer.count - offset) }
                return sent
            }
        }
        if written < 0 { throw SwiftletError("write to the agent channel", errno: errno) }
        offset += written
    }
}
