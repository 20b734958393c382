import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The input side of attaching to a running container (Docker's `attach` with stdin,
/// `docker run -i` through a daemon, and the TTY's window size): the container's monitor
/// listens on a Unix socket of its own, `/run/swiftlet/attach/ID.sock` (0600), and writes
/// what attached clients send into the container's stdin (a pipe, or the master of its
/// terminal). Each message on a connection is a type byte, a big-endian 32-bit length and
/// that many bytes:
///
/// - `data`: bytes for the container's stdin;
/// - `closeStdin`: end of input (Docker's StdinOnce: the client that ran the container
///   detached its stdin); the pipe is closed, so the process reads end of file;
/// - `resize`: rows and columns, two big-endian 16-bit numbers, for the container's TTY.
public enum AttachInput {
    enum Message: UInt8 {
        case data = 0, closeStdin = 1, resize = 2
    }

    static let directory = "/run/swiftlet/attach"

    static func socketPath(_ id: String) -> String { "\(directory)/\(id).sock" }

    /// One attached client's connection to a container's monitor.
    public final class Connection: Sendable {
        private let fd: Int32

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
            self.fd = fd
        }

        deinit { close(fd) }

        public func send(_ bytes: [UInt8]) throws(SwiftletError) {
            try send(.data, bytes)
        }

        public func closeStdin() throws(SwiftletError) {
            try send(.closeStdin, [])
        }

        public func resize(rows: UInt16, columns: UInt16) throws(SwiftletError) {
            try send(.resize, [UInt8(rows >> 8), UInt8(rows & 0xff), UInt8(columns >> 8), UInt8(columns & 0xff)])
        }

        private func send(_ type: Message, _ payload: [UInt8]) throws(SwiftletError) {
            let length = UInt32(payload.count)
            let head: [UInt8] = [type.rawValue, UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            try Descriptors.writeAll(fd, head + payload, what: "write to the container's monitor")
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
            defer { close(client) }
            var head = [UInt8](repeating: 0, count: 5)
            while Descriptors.readFully(client, &head), let type = Message(rawValue: head[0]) {
                let length = Int(head[1]) << 24 | Int(head[2]) << 16 | Int(head[3]) << 8 | Int(head[4])
                guard length <= 1 << 20 else { return }
                var payload = [UInt8](repeating: 0, count: length)
                guard length == 0 || Descriptors.readFully(client, &payload) else { return }
                switch type {
                case .data: input.write(payload)
                case .closeStdin: if closable { input.close() }
                case .resize:
                    guard length == 4 else { return }
                    resize(winsize(ws_row: UInt16(payload[0]) << 8 | UInt16(payload[1]),
                                   ws_col: UInt16(payload[2]) << 8 | UInt16(payload[3]), ws_xpixel: 0, ws_ypixel: 0))
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
        let changes = waitingForStart ? try FileChangeWatch(containers.bundle(config.id).directory) : nil
        while try refreshedState(config).status == .created, let changes {
            changes.wait()
        }
        guard try refreshedState(config).status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        return try AttachInput.Connection(containerID: config.id)
    }
}
