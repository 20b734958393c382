import AgentProtocol
import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The input side of attaching to a running container (Docker's `attach` with stdin,
/// `docker run -i` through a daemon, and the TTY's window size): the container's monitor
/// listens on a Unix socket of its own, `/run/swiftlet/attach/ID.sock` (0600), and writes
/// what attached clients send into the container's stdin (a pipe, or the master of its
/// terminal). A connection carries agent-protocol frames (``AgentMessage``), of three
/// kinds:
///
/// - `stdin`: bytes for the container's stdin;
/// - `closeStdin`: end of input (Docker's StdinOnce: the client that ran the container
///   detached its stdin); the pipe is closed, so the process reads end of file;
/// - `resize`: rows and columns for the container's TTY.
///
/// Any other message, or a malformed frame, ends the connection.
public enum AttachInput {
    static let directory = "/run/swiftlet/attach"

    static func socketPath(_ id: String) -> String { "\(directory)/\(id).sock" }

    /// One attached client's connection to a container's monitor.
    public final class Connection: Sendable {
        private let channel: AgentChannel

        /// Connects to the monitor of container `id`; fails when it is not running with
        /// its stdin open (`-i`) or a TTY.
        init(containerID id: String) throws(SwiftletError) {
            let path = AttachInput.socketPath(id)
            let fd = try UnixSocketAddress.streamSocket()
            do {
                try UnixSocketAddress(path).connect(fd)
            } catch {
                close(fd)
                throw SwiftletError("container \(id.prefix(12)) takes no input (it was not started with -i or -t, or it is not running)",
                                    code: .conflict)
            }
            channel = AgentChannel(fd: fd)
        }

        deinit { channel.close() }

        /// Bytes for the container's stdin, in pieces of at most `AgentProtocol.maxChunk`.
        public func send(_ bytes: [UInt8]) throws(SwiftletError) {
            for start in stride(from: 0, to: bytes.count, by: AgentProtocol.maxChunk) {
                try channel.send(.stdin(Array(bytes[start..<min(start + AgentProtocol.maxChunk, bytes.count)])))
            }
        }

        public func closeStdin() throws(SwiftletError) {
            try channel.send(.closeStdin)
        }

        public func resize(rows: UInt16, columns: UInt16) throws(SwiftletError) {
            try channel.send(.resize(rows: rows, columns: columns))
        }
    }

    /// The monitor's end: accepts connections on the container's socket, each served on a
    /// thread of its own, until `stop`.
    final class Listener: Sendable {
        private let fd: Int32
        private let path: String

        /// Listens for container `id`; messages go to `input` (closed on `closeStdin`
        /// when `closable`) and window sizes to `resize`.
        init(containerID id: String, input: SharedDescriptor, closable: Bool,
             resize: @escaping @Sendable (winsize) -> Void) throws(SwiftletError) {
            path = AttachInput.socketPath(id)
            mkdir("/run/swiftlet", 0o711)
            mkdir(AttachInput.directory, 0o700)
            unlink(path)
            let fd = try UnixSocketAddress.streamSocket()
            do throws(SwiftletError) {
                try UnixSocketAddress(path).bind(fd)
                chmod(path, 0o600)
                guard listen(fd, 16) == 0 else { throw SwiftletError.last("listen \(path)") }
            } catch {
                close(fd)
                throw error
            }
            self.fd = fd
            try PosixThread.detached { [fd] in
                while true {
                    let client = accept(fd, nil, nil)
                    if client < 0 {
                        if errno == EINTR || errno == ECONNABORTED { continue }
                        return
                    }
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    do {
                        try PosixThread.detached { Self.serve(client, input: input, closable: closable, resize: resize) }
                    } catch {
                        close(client)
                    }
                }
            }
        }

        /// Stops listening and removes the socket (the accepting thread ends).
        func stop() {
            unlink(path)
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }

        private static func serve(_ client: Int32, input: SharedDescriptor, closable: Bool, resize: (winsize) -> Void) {
            let channel = AgentChannel(fd: client)
            defer { channel.close() }
            while let message = try? channel.receive() {
                switch message {
                case .stdin(let bytes): input.write(bytes)
                case .closeStdin: if closable { input.close() }
                case .resize(let rows, let columns): resize(winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0))
                default: return
                }
            }
        }
    }
}

extension Runtime {
    /// Connects to a running container's input: its stdin (`-i`) and its TTY's size.
    /// `waitingForStart`: a container not started yet is waited for (an attach made
    /// before the start, as `docker run` does).
    public func attachInput(_ reference: String, waitingForStart: Bool = false) throws -> AttachInput.Connection {
        let config = try containers.find(reference)
        if waitingForStart { try waitForState(config) { $0.status != .created } }
        guard try refreshedState(config).status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        return try AttachInput.Connection(containerID: config.id)
    }
}
