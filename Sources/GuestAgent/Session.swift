import AgentProtocol
import CLinux
import Glibc
import Synchronization
import HostSystem

/// One vsock connection of the agent protocol: hello both ways, then `run` or `exec`,
/// `started` or `failed`, stdio relayed both ways, signals and resizes applied, and
/// `exited` once the process has ended and its output is drained. The session thread
/// pumps output and waits for the exit; an input thread applies the host's messages.
final class Session: Sendable {
    let channel: AgentChannel
    let agent: Agent
    /// Set when a send fails (the host went away): output is then read and dropped so
    /// the process never blocks on a full pipe.
    private let hostGone = Atomic<Bool>(false)
    /// Two owners (session and input threads); the last to finish closes the channel.
    private let owners = Atomic<Int>(2)
    /// Readable once the input thread has seen the host close the connection.
    private let inputEnded: Int32

    init(fd: Int32, agent: Agent) {
        channel = AgentChannel(fd: fd)
        self.agent = agent
        inputEnded = eventfd(0, Int32(EFD_CLOEXEC))
    }

    /// Serves the session to its end (on the calling thread).
    func serve() {
        send(.hello(version: AgentProtocol.version))
        let request: AgentMessage
        do throws(SwiftletError) {
            guard case .hello(let version)? = try channel.receive() else {
                return finish(failure: SwiftletError("agent protocol: the session did not start with hello"), isMain: false)
            }
            guard version == AgentProtocol.version else {
                return finish(failure: SwiftletError("agent protocol version \(version) is not supported (the agent speaks \(AgentProtocol.version))"), isMain: false)
            }
            guard let next = try channel.receive() else { return finish(failure: nil, isMain: false) }
            request = next
        } catch {
            return finish(failure: SwiftletError("\(error)"), isMain: false)
        }
        switch request {
        case .run(let setup, let process):
            do throws(SwiftletError) {
                let launched = try agent.run(setup, process)
                relay(launched, isMain: true)
            } catch {
                finish(failure: error, isMain: true)
            }
        case .exec(let process):
            do throws(SwiftletError) {
                let launched = try agent.exec(process)
                relay(launched, isMain: false)
            } catch {
                finish(failure: error, isMain: false)
            }
        default:
            finish(failure: SwiftletError("agent protocol: expected run or exec, got a kind \(request.kind) message"), isMain: false)
        }
    }

    private func send(_ message: AgentMessage) {
        guard !hostGone.load(ordering: .relaxed) else { return }
        do {
            try channel.send(message)
        } catch {
            hostGone.store(true, ordering: .relaxed)
        }
    }

    /// Reports a failure (if any) and ends the session; a failed `run` powers the VM off.
    private func finish(failure: SwiftletError?, isMain: Bool) {
        if let failure {
            consoleLog("session failed: \(failure)")
            send(.failed(status: failure.code.exitStatus, message: failure.description))
        }
        channel.shutdownWrite()
        if isMain {
            waitForHostClose()
            agent.powerOff()
        }
        close(inputEnded)
        channel.close()
    }

    /// Reads and drops what the host still sends until it closes the connection, for up
    /// to 2 s, so the last frames are delivered before the VM powers off.
    private func waitForHostClose() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pollFD = pollfd(fd: channel.fd, events: Int16(POLLIN), revents: 0)
        while poll(&pollFD, 1, 2000) > 0, read(channel.fd, &buffer, buffer.count) > 0 {}
    }

    /// Relays until the process exits, sends `exited`, and for the main process powers
    /// the VM off once the host has closed the connection (or after 2 s).
    private func relay(_ process: LaunchedProcess, isMain: Bool) {
        send(.started(pid: process.pid))
        startThread { [self] in
            applyInput(process)
        }
        let status = pumpOutput(process)
        send(.exited(status: ExitStatus.from(waitStatus: status)))
        channel.shutdownWrite()
        if isMain {
            var pollFD = pollfd(fd: inputEnded, events: Int16(POLLIN), revents: 0)
            _ = poll(&pollFD, 1, 2000)
            agent.powerOff()
        }
        process.outputs.forEach { if $0.fd != process.terminal { close($0.fd) } }
        release(process)
    }

    private func release(_ process: LaunchedProcess) {
        if owners.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            if let terminal = process.terminal { close(terminal) }
            close(inputEnded)
            channel.close()
        }
    }

    /// Forwards output until the process has exited, then drains what is buffered;
    /// returns the wait status.
    private func pumpOutput(_ process: LaunchedProcess) -> Int32 {
        var open = process.outputs
        var buffer = [UInt8](repeating: 0, count: AgentProtocol.maxChunk)
        while true {
            var pollFDs = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            pollFDs.append(pollfd(fd: process.exitEvent, events: Int16(POLLIN), revents: 0))
            if poll(&pollFDs, nfds_t(pollFDs.count), -1) < 0 { continue }
            var stillOpen: [(fd: Int32, isStderr: Bool)] = []
            for (index, output) in open.enumerated() {
                if pollFDs[index].revents == 0 || forward(output, buffer: &buffer) { stillOpen.append(output) }
            }
            open = stillOpen
            if pollFDs.last!.revents != 0 { break }
        }
        // What the process wrote before it exited fits in the pipe or pty buffer (64 KiB);
        // the bound keeps a surviving background writer from holding `exited` back.
        for output in open {
            _ = fcntl(output.fd, F_SETFL, fcntl(output.fd, F_GETFL) | O_NONBLOCK)
            var chunks = 0
            while chunks < 16, forward(output, buffer: &buffer) { chunks += 1 }
        }
        return agent.watcher.waitForExit(process.pid, exitEvent: process.exitEvent)
    }

    /// Reads once from `output` and sends it; false at end of stream (EOF, EIO on a pty
    /// whose slave is gone, EAGAIN when draining).
    private func forward(_ output: (fd: Int32, isStderr: Bool), buffer: inout [UInt8]) -> Bool {
        let count = buffer.withUnsafeMutableBytes { raw in
            while true {
                let n = read(output.fd, raw.baseAddress, raw.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        guard count > 0 else { return false }
        let bytes = Array(buffer[0..<count])
        send(output.isStderr ? .stderr(bytes) : .stdout(bytes))
        return true
    }

    /// The input thread: stdin, closeStdin, signal and resize from the host.
    private func applyInput(_ process: LaunchedProcess) {
        var input: Int32? = process.input
        defer {
            if let input, input != process.terminal { close(input) }
            var one: UInt64 = 1
            _ = write(inputEnded, &one, 8)
            release(process)
        }
        while true {
            let message: AgentMessage?
            do {
                message = try channel.receive()
            } catch {
                consoleLog("session of pid \(process.pid): \(error)")
                return
            }
            switch message {
            case nil:
                return
            case .stdin(let bytes)?:
                if let fd = input, (try? Descriptors.writeAll(fd, bytes)) == nil, process.terminal == nil {
                    close(fd)
                    input = nil
                }
            case .closeStdin?:
                if let fd = input, process.terminal == nil {
                    close(fd)
                    input = nil
                }
            case .signal(let number)?:
                if kill(process.pid, number) < 0 {
                    consoleLog("cannot deliver signal \(number) to \(process.pid): \(String(cString: strerror(errno)))")
                }
            case .resize(let rows, let columns)?:
                if let terminal = process.terminal { _ = sa_set_window_size(terminal, rows, columns) }
            case let other?:
                consoleLog("session of pid \(process.pid): ignoring an unexpected kind \(other.kind) message")
            }
        }
    }
}


