import AgentProtocol
@testable import GuestAgent
import Glibc
import Testing

/// Session refusals that need no container: the version handshake and the order of
/// messages, over a socketpair (the host side is the test).
@Suite struct SessionTests {
    /// Serves one session on a thread and returns the host's channel.
    func connect() -> AgentChannel {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let session = Session(fd: fds[1], agent: Agent())
        startThread { session.serve() }
        return AgentChannel(fd: fds[0])
    }

    func remaining(_ host: AgentChannel) throws -> [AgentMessage] {
        var messages: [AgentMessage] = []
        while let message = try host.receive() { messages.append(message) }
        return messages
    }

    @Test func otherProtocolVersionIsRefused() throws {
        let host = connect()
        defer { host.close() }
        try host.send(.hello(version: AgentProtocol.version + 1))
        #expect(try remaining(host) == [
            .hello(version: AgentProtocol.version),
            .failed(status: 125, message: "agent protocol version \(AgentProtocol.version + 1) is not supported (the agent speaks \(AgentProtocol.version))"),
        ])
    }

    @Test func sessionMustStartWithHello() throws {
        let host = connect()
        defer { host.close() }
        try host.send(.exec(ProcessStart(args: ["true"])))
        #expect(try remaining(host) == [
            .hello(version: AgentProtocol.version), .failed(status: 125, message: "agent protocol: the session did not start with hello"),
        ])
    }

    @Test func execBeforeRunIsRefused() throws {
        let host = connect()
        defer { host.close() }
        try host.send(.hello(version: AgentProtocol.version))
        try host.send(.exec(ProcessStart(args: ["true"])))
        #expect(try remaining(host) == [
            .hello(version: AgentProtocol.version), .failed(status: 125, message: "container is not running: exec needs a started container"),
        ])
    }

    @Test func onlyRunOrExecStartsASession() throws {
        let host = connect()
        defer { host.close() }
        try host.send(.hello(version: AgentProtocol.version))
        try host.send(.signal(15))
        #expect(try remaining(host) == [
            .hello(version: AgentProtocol.version), .failed(status: 125, message: "agent protocol: expected run or exec, got a kind 10 message"),
        ])
    }

    @Test func malformedFrameIsAProtocolError() throws {
        let host = connect()
        defer { host.close() }
        try host.send(.hello(version: AgentProtocol.version))
        let bad: [UInt8] = [1, 0, 0, 0, 99]
        _ = bad.withUnsafeBytes { write(host.fd, $0.baseAddress, $0.count) }
        #expect(try remaining(host) == [
            .hello(version: AgentProtocol.version), .failed(status: 125, message: "agent protocol: unknown message kind 99"),
        ])
    }
}
