import HostSystem
import AgentProtocol
import Foundation
@testable import Runtime
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The host side of agent sessions (MicroVMBackend's relay) against a fake agent on the
/// other end of a socketpair, speaking AgentProtocol as swiftlet-init does.
@Suite struct AgentSessionTests {
    /// Pipes standing in for the monitor's stdio: the session reads `input`, writes
    /// `output` and `errors`.
    struct Stdio {
        var stdin: [Int32] = [-1, -1]
        var stdout: [Int32] = [-1, -1]
        var stderr: [Int32] = [-1, -1]

        init(input: String?) throws {
            for index in 0..<3 {
                var pair: [Int32] = [-1, -1]
                #expect(pipe(&pair) == 0)
                switch index {
                case 0: stdin = pair
                case 1: stdout = pair
                default: stderr = pair
                }
            }
            if let input { _ = input.withCString { write(stdin[1], $0, strlen($0)) } }
            if input != nil { close(stdin[1]) }
        }

        /// The fds the session is given; the caller closes its copies after the start, as
        /// the monitor does.
        var given: [Int32] { [stdin[0], stdout[1], stderr[1]] }

        func closeGiven() { given.forEach { close($0) } }

        func read(_ fd: Int32) -> String {
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = Glibc.read(fd, &buffer, buffer.count)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Runs `agent` on its own thread with the guest end of a connection; returns the host end.
    func fakeAgent(_ agent: @escaping @Sendable (AgentChannel) throws -> Void) -> Int32 {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let guest = AgentChannel(fd: fds[1])
        Thread {
            try? agent(guest)
            guest.close()
        }.start()
        return fds[0]
    }

    /// The agent's side of the opening: hello both ways, then the request.
    static func accept(_ channel: AgentChannel) throws -> AgentMessage? {
        guard case .hello(AgentProtocol.version) = try channel.receive() else { return nil }
        try channel.send(.hello(version: AgentProtocol.version))
        return try channel.receive()
    }

    static let setup = ContainerSetup(hostname: "h", rootfs: "/dev/vda", writable: "/dev/vdb",
                                      volumes: [VolumeMount(device: "/dev/vdc", target: "/data", readOnly: true)])
    static let start = ProcessStart(args: ["cat"], env: ["PATH=/bin"], cwd: "/", user: "1000")

    @Test func runRelaysStdioAndReportsTheExitStatus() throws {
        let fd = fakeAgent { channel in
            guard case .run(Self.setup, Self.start) = try Self.accept(channel) else { return }
            try channel.send(.started(pid: 7))
            try channel.send(.stderr(Array("warming up\n".utf8)))
            // Echo stdin until closeStdin, then exit 3.
            while case .stdin(let bytes)? = try channel.receive() { try channel.send(.stdout(bytes)) }
            try channel.send(.exited(status: 3))
        }
        let stdio = try Stdio(input: "line one\nline two\n")
        let session = try AgentSession(fd: fd, request: .run(Self.setup, Self.start), stdio: stdio.given, tty: false, pid: 42)
        stdio.closeGiven()
        #expect(session.pid == 42)
        #expect(session.wait() == 3)
        #expect(stdio.read(stdio.stdout[0]) == "line one\nline two\n")
        #expect(stdio.read(stdio.stderr[0]) == "warming up\n")
    }

    @Test func failedStartPrintsTheAgentsMessageAndItsStatus() throws {
        let message = #"exec: "nonexistent": executable file not found in $PATH"#
        let fd = fakeAgent { channel in
            guard case .exec = try Self.accept(channel) else { return }
            try channel.send(.failed(status: 127, message: message))
        }
        let stdio = try Stdio(input: "")
        let session = try AgentSession(fd: fd, request: .exec(Self.start), stdio: stdio.given, tty: false, pid: 1)
        stdio.closeGiven()
        #expect(session.wait() == 127)
        #expect(session.outcome() == .failed(127, message))
        #expect(stdio.read(stdio.stderr[0]) == "swiftlet: \(message)\n")
    }

    @Test func aSessionCutOffWithoutExitIs125WithALine() throws {
        let fd = fakeAgent { channel in
            _ = try Self.accept(channel)
            try channel.send(.stdout(Array("partial".utf8)))
        }
        let stdio = try Stdio(input: "")
        let session = try AgentSession(fd: fd, request: .exec(Self.start), stdio: stdio.given, tty: false, pid: 1)
        stdio.closeGiven()
        #expect(session.wait() == 125)
        #expect(stdio.read(stdio.stdout[0]) == "partial")
        #expect(stdio.read(stdio.stderr[0]).contains("session ended without an exit status"))
    }

    /// A guest whose agent accepted the connection but never answers `hello` does not
    /// block the monitor: the start fails after `helloTimeout` seconds.
    @Test func anAgentThatNeverAnswersTimesOut() throws {
        // The agent reads until the session gives up and closes the connection.
        let fd = fakeAgent { channel in
            while try channel.receive() != nil {}
        }
        let stdio = try Stdio(input: "")
        defer { stdio.closeGiven() }
        let started = ContinuousClock.now
        #expect {
            _ = try AgentSession(fd: fd, request: .exec(Self.start), stdio: stdio.given, tty: false, pid: 1)
        } throws: { error in
            "\(error)".contains("did not answer within \(AgentSession.helloTimeout) s")
        }
        #expect(ContinuousClock.now - started < .seconds(AgentSession.helloTimeout + 5))
    }

    @Test func versionMismatchIsRefusedAtOpen() throws {
        let fd = fakeAgent { channel in
            _ = try channel.receive()
            try channel.send(.failed(status: 125, message: "agent protocol version 1 is not supported"))
        }
        let stdio = try Stdio(input: "")
        defer { stdio.closeGiven() }
        #expect(throws: SwiftletError.self) {
            _ = try AgentSession(fd: fd, request: .exec(Self.start), stdio: stdio.given, tty: false, pid: 1)
        }
    }

    /// With a TTY, stdin EOF keeps the terminal open; signals and window sizes go to the agent.
    @Test func ttySignalsAndResizesReachTheAgent() throws {
        let seen = Recorder()
        let fd = fakeAgent { channel in
            _ = try Self.accept(channel)
            try channel.send(.started(pid: 9))
            while let message = try channel.receive() {
                seen.append(message)
                if case .signal(SIGTERM) = message { break }
            }
            try channel.send(.exited(status: 143))
        }
        let stdio = try Stdio(input: "ls\n")
        var tty = Self.start
        tty.tty = true
        let session = try AgentSession(fd: fd, request: .exec(tty), stdio: stdio.given, tty: true, pid: 1)
        stdio.closeGiven()
        seen.waitFor(1)
        session.resize(winsize(ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0))
        try session.signal(SIGTERM)
        #expect(session.wait() == 143)
        #expect(seen.messages == [.stdin(Array("ls\n".utf8)), .resize(rows: 30, columns: 100), .signal(SIGTERM)])
    }

    /// `kill` in another process reaches the monitor's delivery function through the
    /// control socket.
    @Test func controlSocketDeliversSignals() throws {
        let path = NSTemporaryDirectory() + "swiftlet-control-\(getpid()).sock"
        let seen = Recorder()
        let control = try ControlSocket(path: path) { signal in
            seen.append(.signal(signal))
            return signal != SIGUSR2
        }
        defer { control.close() }
        try ControlSocket.request(SIGTERM, path: path)
        try ControlSocket.request(SIGKILL, path: path)
        #expect(throws: SwiftletError.self) { try ControlSocket.request(SIGUSR2, path: path) }
        #expect(seen.messages == [.signal(SIGTERM), .signal(SIGKILL), .signal(SIGUSR2)])
        control.close()
        #expect(throws: SwiftletError.self) { try ControlSocket.request(SIGTERM, path: path) }
    }
}

/// Messages collected from another thread.
/// The messages a fake agent saw; a test can wait for the next one (each append writes a
/// byte to a pipe the waiter reads).
final class Recorder: Sendable {
    private let list = Mutex<[AgentMessage]>([])
    private let notices: [Int32]

    init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        notices = fds
    }

    deinit { notices.forEach { close($0) } }

    func append(_ message: AgentMessage) {
        list.withLock { $0.append(message) }
        var byte: UInt8 = 1
        _ = write(notices[1], &byte, 1)
    }

    /// Blocks until `count` messages have been recorded.
    func waitFor(_ count: Int) {
        var byte: UInt8 = 0
        while messages.count < count, read(notices[0], &byte, 1) > 0 {}
    }

    var messages: [AgentMessage] { list.withLock { $0 } }
}
