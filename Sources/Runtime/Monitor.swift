import HostSystem
import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The monitor of one running container (like containerd's shim or conmon): a process of
/// its own (`swiftlet-shim`), started detached by `start`, that asks the
/// backend to start the container's process, copies its stdout/stderr into the log (and,
/// for an attached client, to the monitor's own stdout/stderr, which are the client's),
/// reaps it, records the exit code and OOM kill, and removes an `--rm` container.
struct Monitor {
    let runtime: Runtime
    let config: ContainerConfig
    let bundle: ContainerBundle

    /// Runs the container to completion and returns its exit code. `readyFD` (if >= 0) is
    /// closed once the state says running (or the start failed), releasing `start`.
    func run(readyFD: Int32, attached: Bool) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        if readyFD >= 0 { _ = fcntl(readyFD, F_SETFD, FD_CLOEXEC) }
        var ready = readyFD
        let code = supervise(ready: &ready, attached: attached)
        if ready >= 0 { close(ready) }
        if config.autoRemove {
            // A `wait` started before the exit reads the recorded code first.
            let waiters = bundle.awaitWaiters()
            try? runtime.removeFiles(config)
            if waiters >= 0 { close(waiters) }
        }
        return code
    }

    private func supervise(ready: inout Int32, attached: Bool) -> Int32 {
        let log: ContainerLog
        do {
            log = try ContainerLog(path: bundle.logPath)
        } catch {
            return finish(code: 125, error: "\(error)", attached: attached, log: nil)
        }
        var pipes: [[Int32]] = []
        defer { pipes.forEach { close($0[0]) } }
        let backend: any IsolationBackend
        let started: any ContainerProcess
        var network: NetworkAttachment?
        do {
            backend = Runtime.backend(config.isolation)
            for _ in 0..<2 {
                var pair: [Int32] = [-1, -1]
                try sys("pipe2") { sl_pipe_cloexec(&pair) }
                pipes.append(pair)
            }
            let stdin = attached && config.interactive ? 0 : try sys("open /dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
            defer { if stdin != 0 { close(stdin) } }
            defer { pipes.forEach { close($0[1]) } }
            try runtime.volumes.attach(config)
            do {
                network = try runtime.network.connect(config)
                started = try backend.start(config, bundle: bundle, stdio: [stdin, pipes[0][1], pipes[1][1]],
                                            terminalSize: attached ? Terminal.size(of: [1, 0]) : nil, network: network)
            } catch {
                runtime.network.disconnect(config)
                runtime.volumes.detach(config)
                throw error
            }
        } catch {
            let failure = error as? SwiftletError ?? .wrap(error, "cannot start container \(config.id)")
            return finish(code: failure.code.exitStatus, error: failure.description, attached: attached, log: log)
        }
        _ = try? bundle.updateState { state in
            state = ContainerState()
            state.status = .running
            state.pid = started.pid
            state.shimPid = getpid()
            state.startedAt = Date()
            state.network = network
        }
        runtime.recordEvent("start", config)
        if ready >= 0 { close(ready) }
        ready = -1
        var outputs = [(pipes[0][0], "stdout", Int32(1)), (pipes[1][0], "stderr", Int32(2))]
        var resizer: (any DispatchSourceSignal)?
        if config.tty && attached {
            resizer = Terminal.onResize {
                if let size = Terminal.size(of: [1, 0]) { started.resize(size) }
            }
        }
        if let terminal = started.terminal {
            outputs.append((terminal, "stdout", 1))
            if attached && config.interactive { Terminal.relay(from: 0, to: terminal) }
        }
        let pumps = outputs.map { fd, stream, output in
            startPump(fd: fd, stream: stream, log: log, tee: attached ? output : -1)
        }
        let code = started.wait()
        pumps.forEach { $0.wait() }
        resizer?.cancel()
        if let terminal = started.terminal { close(terminal) }
        let oom = backend.cleanup(config, bundle: bundle)
        runtime.network.disconnect(config)
        runtime.volumes.detach(config)
        let ended = try? bundle.updateState { state in
            state.network = nil
            state.status = .exited
            state.exitCode = code
            state.oomKilled = oom
            state.pid = nil
            state.finishedAt = Date()
        }
        // Swiftlet's addition to Docker's attributes: why a container ended abnormally,
        // which outlives an `--rm` container's state.
        let why = ended?.error.map { ["error": $0] } ?? [:]
        runtime.recordEvent("die", config, ["exitCode": "\(code)"].merging(why) { $1 })
        return code
    }

    /// Records a start that failed before the container's process ran.
    private func finish(code: Int32, error: String, attached: Bool, log: ContainerLog?) -> Int32 {
        let line = Data("swiftlet: \(error)\n".utf8)
        log?.append(line, stream: "stderr")
        if attached { writeAll(2, line) }
        _ = try? bundle.updateState { state in
            state.status = .exited
            state.exitCode = code
            state.error = error
            state.pid = nil
            state.startedAt = state.startedAt ?? Date()
            state.finishedAt = Date()
        }
        return code
    }

    /// Copies `fd` on its own thread until EOF (or EIO, a terminal whose slave closed)
    /// into the log under `stream` and to `tee` (if >= 0, until it breaks).
    private func startPump(fd: Int32, stream: String, log: ContainerLog, tee: Int32) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 32768)
            var teeing = tee >= 0
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                let data = Data(buffer[0..<count])
                log.append(data, stream: stream)
                if teeing { teeing = writeAll(tee, data) }
            }
            done.signal()
        }
        thread.start()
        return done
    }
}
