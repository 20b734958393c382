import HostSystem
import AgentProtocol
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host side of one session with a microVM's guest agent (AgentProtocol; the
/// agent-protocol contract): `hello` both ways, then `run` (the container's main process)
/// or `exec`, then the relay until `exited` or `failed`. The session's stdin is read from
/// the stdio fd 0 given and sent as `stdin` messages (EOF: `closeStdin`, except with a
/// TTY, whose terminal stays open as Docker's does); `stdout`/`stderr` messages are
/// written to fds 1 and 2. A `failed` start is reported like the namespace backend's
/// child reports it: `swiftlet: <message>` on stderr and the status as the exit code.
final class AgentSession: ContainerProcess {
    /// How the session ended.
    enum Outcome: Equatable, Sendable {
        /// The process exited with this code (128+N when killed by signal N).
        case exited(Int32)
        /// The agent could not start it: Docker's status (125, 126, 127) and message.
        case failed(Int32, String)
        /// The session ended without either (the VM stopped, a protocol error).
        case lost(String)
    }

    let pid: pid_t
    var terminal: Int32? { nil }
    let channel: AgentChannel
    private let input: Int32
    private let output: Int32
    private let errors: Int32
    private let ending = Mutex<Outcome?>(nil)
    private let lossExpected = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Opens a session on `fd` (connected to the agent; owned by the session from now on)
    /// and sends `request`; `pid` is the host process reported as the session's.
    init(fd: Int32, request: AgentMessage, stdio: [Int32], tty: Bool, pid: pid_t) throws {
        let channel = AgentChannel(fd: fd)
        self.channel = channel
        self.pid = pid
        // A failure of the channel itself (a frame, a read) says it came from the session.
        func onChannel<T>(_ body: () throws(SwiftletError) -> T) throws(SwiftletError) -> T {
            do {
                return try body()
            } catch {
                channel.close()
                throw error.adding(context: "guest agent session")
            }
        }
        func refuse(_ error: SwiftletError) -> SwiftletError {
            channel.close()
            return error
        }
        // The agent answers at once; a guest that does not is not left to block us.
        UnixSocketAddress.setTimeout(fd, seconds: Self.helloTimeout, for: [SO_RCVTIMEO])
        try onChannel { () throws(SwiftletError) in try channel.send(.hello(version: AgentProtocol.version)) }
        let asked = ContinuousClock.now
        let reception = Result { () throws(SwiftletError) in try channel.receive() }
        if case .failure = reception, ContinuousClock.now - asked >= .seconds(Self.helloTimeout) {
            throw refuse(SwiftletError("the guest agent did not answer within \(Self.helloTimeout) s", code: .unavailable))
        }
        let answer = try onChannel { () throws(SwiftletError) in try reception.get() }
        UnixSocketAddress.setTimeout(fd, seconds: 0, for: [SO_RCVTIMEO])
        switch answer {
        case .hello(let version) where version == AgentProtocol.version:
            break
        case .failed(let status, let message):
            throw refuse(SwiftletError("the guest agent refused the session: \(message)", code: .init(exitStatus: status)))
        case let reply:
            throw refuse(SwiftletError("the guest agent answered hello with \(reply.map { "\($0)" } ?? "end of stream")"))
        }
        try onChannel { () throws(SwiftletError) in try channel.send(request) }
        input = fcntl(stdio[0], F_DUPFD_CLOEXEC, 3)
        output = fcntl(stdio[1], F_DUPFD_CLOEXEC, 3)
        errors = fcntl(stdio[2], F_DUPFD_CLOEXEC, 3)
        Thread { [self] in relayOutput() }.start()
        Thread { [self] in relayInput(closeAtEOF: !tty) }.start()
    }

    /// How long the agent may take to answer `hello`.
    static let helloTimeout = 30

    deinit {
        channel.close()
        if input >= 0 { close(input) }
    }

    /// Says that the session is about to end without an exit status because the host
    /// stops the VM (a kill): no error line is written for it then.
    func expectLoss() {
        lossExpected.withLock { $0 = true }
    }

    /// Whether the session has ended.
    var hasEnded: Bool { ending.withLock { $0 != nil } }

    /// Blocks until the session has ended and all of its output has been written.
    func outcome() -> Outcome {
        finished.wait()
        finished.signal()
        return ending.withLock { $0 } ?? .lost("the session ended")
    }

    func wait() -> Int32 {
        switch outcome() {
        case .exited(let status), .failed(let status, _):
            return status
        case .lost:
            return 125
        }
    }

    func resize(_ size: winsize) {
        try? channel.send(.resize(rows: size.ws_row, columns: size.ws_col))
    }

    /// Sends `signal` to the session's process.
    func signal(_ signal: Int32) throws {
        do {
            try channel.send(.signal(signal))
        } catch {
            throw SwiftletError("cannot deliver signal \(signal) to the guest agent: \(error)")
        }
    }

    private func relayOutput() {
        var result: Outcome
        receiving: while true {
            do {
                switch try channel.receive() {
                case nil:
                    result = .lost("the agent closed the connection")
                    break receiving
                case .started:
                    continue
                case .stdout(let bytes):
                    writeAll(output, Data(bytes))
                case .stderr(let bytes):
                    writeAll(errors, Data(bytes))
                case .exited(let status):
                    result = .exited(status)
                    break receiving
                case .failed(let status, let message):
                    writeAll(errors, Data("swiftlet: \(message)\n".utf8))
                    result = .failed(status, message)
                    break receiving
                case let other?:
                    result = .lost("unexpected message from the agent: \(other)")
                    break receiving
                }
            } catch {
                result = .lost("\(error)")
                break receiving
            }
        }
        if case .lost(let reason) = result, !lossExpected.withLock({ $0 }) {
            writeAll(errors, Data("swiftlet: the guest agent session ended without an exit status: \(reason)\n".utf8))
        }
        ending.withLock { $0 = result }
        _ = shutdown(channel.fd, Int32(SHUT_RDWR))
        close(output)
        close(errors)
        finished.signal()
    }

    private func relayInput(closeAtEOF: Bool) {
        var buffer = [UInt8](repeating: 0, count: AgentProtocol.maxChunk)
        while true {
            let count = read(input, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                if closeAtEOF { try? channel.send(.closeStdin) }
                return
            }
            do {
                try channel.send(.stdin(Array(buffer[0..<count])))
            } catch {
                return
            }
        }
    }
}
