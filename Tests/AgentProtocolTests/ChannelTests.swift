@testable import AgentProtocol
import HostSystem
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// AgentChannel over a socketpair, and VsockUnixConnector against a fake VMM socket that
/// speaks Firecracker's CONNECT/OK handshake.
@Suite struct ChannelTests {
    func socketPair() throws -> (AgentChannel, AgentChannel) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (AgentChannel(fd: fds[0]), AgentChannel(fd: fds[1]))
    }

    @Test func messagesCrossASocketpairInOrder() throws {
        let (host, guest) = try socketPair()
        defer { host.close(); guest.close() }
        let big = AgentMessage.stdout([UInt8](repeating: 0x5A, count: 300_000))
        let messages: [AgentMessage] = [.hello(version: AgentProtocol.version), .exec(ProcessStart(args: ["true"])), big, .exited(status: 0)]
        let writer = Thread {
            for message in messages { try? host.send(message) }
            host.shutdownWrite()
        }
        writer.start()
        var received: [AgentMessage] = []
        while let message = try guest.receive() { received.append(message) }
        #expect(received == messages)
    }

    @Test func concurrentSendersNeverInterleaveFrames() throws {
        let (host, guest) = try socketPair()
        defer { host.close(); guest.close() }
        let group = DispatchGroup()
        for sender in 0..<4 {
            group.enter()
            Thread {
                for _ in 0..<50 { try? host.send(.stdin([UInt8](repeating: UInt8(sender), count: 5000))) }
                group.leave()
            }.start()
        }
        Thread {
            group.wait()
            host.shutdownWrite()
        }.start()
        var count = 0
        while let message = try guest.receive() {
            guard case .stdin(let bytes) = message, bytes.count == 5000, Set(bytes).count == 1 else {
                Issue.record("interleaved or wrong frame: \(message)")
                return
            }
            count += 1
        }
        #expect(count == 200)
    }

    @Test func endOfStreamInsideAFrameIsAnError() throws {
        let (host, guest) = try socketPair()
        defer { host.close(); guest.close() }
        let frame = AgentMessage.failed(status: 125, message: "boom").encode()
        _ = frame.withUnsafeBytes { write(host.fd, $0.baseAddress, frame.count - 3) }
        host.shutdownWrite()
        #expect(throws: SwiftletError("agent protocol: connection closed in the middle of a frame (14 bytes pending)")) {
            try guest.receive()
        }
    }

    @Test func oversizedMessageIsNotSent() throws {
        let (host, guest) = try socketPair()
        defer { host.close(); guest.close() }
        #expect(throws: SwiftletError.self) {
            try host.send(.stdout([UInt8](repeating: 0, count: AgentProtocol.maxBodyLength)))
        }
    }

    /// The CONNECT lines a fake VMM socket received.
    final class LineLog: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// A fake VMM: listens on `path`; the first `refusals` connections are closed after
    /// the CONNECT line (the guest is not listening yet), then it answers OK and echoes
    /// every byte back.
    final class FakeVMMSocket: Sendable {
        let path: String
        let listener: Int32
        let seenLines = LineLog()

        init(path: String, refusals: Int) throws {
            self.path = path
            unlink(path)
            let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            try UnixSocketAddress(path).bind(listener)
            guard listen(listener, 8) == 0 else { throw SwiftletError.last("listen \(path)") }
            let seenLines = self.seenLines
            Thread {
                var refused = 0
                while true {
                    let connection = accept(listener, nil, nil)
                    if connection < 0 {
                        // The listener is closed here, not in stop(): closed there, its fd
                        // number could be reused by a parallel test's listener before this
                        // thread's next accept, which would then steal that test's connections.
                        close(listener)
                        return
                    }
                    let line = (try? VsockUnixConnector.readLine(connection)) ?? "<none>"
                    seenLines.lines.withLock { $0.append(line) }
                    if refused < refusals {
                        refused += 1
                        close(connection)
                        continue
                    }
                    try? sendAll(connection, Array("OK 1073741824\n".utf8))
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let count = read(connection, &buffer, buffer.count)
                        if count <= 0 { break }
                        try? sendAll(connection, Array(buffer[0..<count]))
                    }
                    close(connection)
                }
            }.start()
        }

        /// Wakes the accept thread (accept fails on a shut-down listener), which closes it.
        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            unlink(path)
        }
    }

    @Test func connectorRetriesUntilTheGuestListensThenCarriesFrames() throws {
        let path = "/tmp/swiftlet-agent-test-\(getpid()).sock"
        let server = try FakeVMMSocket(path: path, refusals: 2)
        defer { server.stop() }
        let fd = try VsockUnixConnector.connect(udsPath: path, port: AgentProtocol.agentPort, timeout: .seconds(5))
        let channel = AgentChannel(fd: fd)
        defer { channel.close() }
        try channel.send(.hello(version: 1))
        #expect(try channel.receive() == .hello(version: 1))
        #expect(server.seenLines.lines.withLock { $0 } == ["CONNECT 1024", "CONNECT 1024", "CONNECT 1024"])
    }

    @Test func connectorWaitsForTheSocketToAppear() throws {
        let path = "/tmp/swiftlet-agent-late-\(getpid()).sock"
        unlink(path)
        let started = Mutex<FakeVMMSocket?>(nil)
        Thread {
            usleep(200_000)
            started.withLock { $0 = try? FakeVMMSocket(path: path, refusals: 0) }
        }.start()
        defer { started.withLock { $0?.stop() } }
        let fd = try VsockUnixConnector.connect(udsPath: path, port: 1024, timeout: .seconds(5))
        close(fd)
    }

    @Test func connectorGivesUpAfterTheTimeoutNamingTheCause() {
        let path = "/tmp/swiftlet-agent-missing-\(getpid()).sock"
        unlink(path)
        do throws(SwiftletError) {
            _ = try VsockUnixConnector.connect(udsPath: path, port: 1024, timeout: .milliseconds(100))
            Issue.record("connected to a missing socket")
        } catch {
            #expect(error.message.contains("cannot reach the guest agent on vsock port 1024 through \(path)"))
            #expect(error.message.contains("No such file or directory"))
        }
    }
}
