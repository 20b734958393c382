import HostSystem
import Units
import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The monitor of one running container (like containerd's shim or conmon): a process of
/// its own (`swiftlet-shim`), started detached by `start`, that asks the
/// backend to start the container's process, copies its stdout/stderr into the log (and,
/// for an attached client, to the monitor's own stdout/stderr, which are the client's),
/// reaps it, records the exit code and OOM kill, and removes an `--rm` container. When the
/// container's restart policy restarts it, the monitor hands over to a successor (a new
/// detached monitor that waits out the restart delay), so an attached client gets the
/// first exit code while the container goes on, as with Docker.
struct Monitor {
    let runtime: Runtime
    let config: ContainerConfig
    let bundle: ContainerBundle

    /// Runs the container to completion and returns its exit code. `readyFD` (if >= 0) is
    /// closed once the state says running (or the start failed), releasing `start`.
    /// `restartDelay`: this monitor restarts the container after that wait, unless the
    /// user stops it meanwhile.
    func run(readyFD: Int32, attached: Bool, restartDelay: Duration? = nil) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        if readyFD >= 0 { _ = fcntl(readyFD, F_SETFD, FD_CLOEXEC) }
        var ready = readyFD
        if let restartDelay, !waitOut(restartDelay) {
            return (try? bundle.readState().exitCode) ?? 0
        }
        let began = ContinuousClock.now
        let (code, restarts) = supervise(ready: &ready, attached: attached, restarting: restartDelay != nil)
        if ready >= 0 { close(ready) }
        if restarts {
            handOver(after: RestartPolicy.delay(after: restartDelay, runLasted: .now - began))
        }
        if config.autoRemove {
            // A `wait` started before the exit reads the recorded code first.
            let waiters = bundle.awaitWaiters()
            try? runtime.removeFiles(config)
            if waiters >= 0 { close(waiters) }
        }
        return code
    }

    /// Waits `delay` before a restart by the policy; false (the state then says exited)
    /// when the user stopped the container meanwhile or it cannot be watched.
    private func waitOut(_ delay: Duration) -> Bool {
        let deadline = ContinuousClock.now + delay
        do {
            let changes = try FileChangeWatch(bundle.directory)
            while try !bundle.readState().stoppedByUser {
                let remaining = deadline - .now
                if remaining <= .zero { return true }
                changes.wait(timeout: DurationValue.seconds(remaining))
            }
        } catch {
            _ = try? bundle.updateState { $0.error = "cannot restart the container: \(error)" }
        }
        _ = try? bundle.updateState { state in
            state.status = .exited
            state.shimPid = nil
        }
        return false
    }

    /// Starts a successor monitor that restarts the container after `delay`; if that
    /// fails, the container stays exited with the reason.
    private func handOver(after delay: Duration) {
        do {
            let successor = try runtime.spawnMonitor(config.id, readyFD: nil, attach: false, stdin: false, restartDelay: delay)
            _ = try bundle.updateState { $0.shimPid = successor.pid }
        } catch {
            _ = try? bundle.updateState { state in
                state.status = .exited
                state.error = "cannot restart the container: \(error)"
            }
        }
    }

    /// Runs the container's process once: its exit code, and whether the restart policy
    /// restarts it (the state then says `restarting`). `restarting`: a restart by the
    /// policy, which keeps the restart count.
    private func supervise(ready: inout Int32, attached: Bool, restarting: Bool) -> (code: Int32, restarts: Bool) {
        let log: ContainerLog
        do {
            log = try ContainerLog(path: bundle.logPath)
        } catch {
            return (finish(code: 125, error: "\(error)", attached: attached, log: nil), false)
        }
        var pipes: [[Int32]] = []
        defer { pipes.forEach { close($0[0]) } }
        let backend: any IsolationBackend
        let started: any ContainerProcess
        var networks: [NetworkAttachment] = []
        var inputWriter: Int32 = -1
        defer { if inputWriter >= 0 { close(inputWriter) } }
        do {
            backend = Runtime.backend(config.isolation)
            for _ in 0..<2 {
                var pair: [Int32] = [-1, -1]
                try sys("pipe2") { sl_pipe_cloexec(&pair) }
                pipes.append(pair)
            }
            // Detached with `-i`, stdin is a pipe that attached clients write into (AttachInput).
            let stdin: Int32
            if attached && config.interactive {
                stdin = 0
            } else if config.interactive {
                var pair: [Int32] = [-1, -1]
                try sys("pipe2") { sl_pipe_cloexec(&pair) }
                (stdin, inputWriter) = (pair[0], pair[1])
            } else {
                stdin = try sys("open /dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
            }
            defer { if stdin != 0 { close(stdin) } }
            defer { pipes.forEach { close($0[1]) } }
            try runtime.volumes.attach(config)
            do {
                networks = try runtime.networking.connect(config)
                started = try backend.start(config, bundle: bundle, stdio: [stdin, pipes[0][1], pipes[1][1]],
                                            terminalSize: attached ? Terminal.size(of: [1, 0]) : nil,
                                            network: try runtime.networkPlacement(config, attachments: networks))
            } catch {
                runtime.networking.disconnect(config, attachments: networks)
                runtime.volumes.detach(config)
                throw error
            }
        } catch {
            let failure = error as? SwiftletError ?? .wrap(error, "cannot start container \(config.id)")
            return (finish(code: failure.code.exitStatus, error: failure.description, attached: attached, log: log), false)
        }
        // Input and window sizes from attached clients (a daemon's `attach`), before the
        // state says running: whoever sees it running can attach.
        var input: AttachInput.Listener?
        if !attached && (config.interactive || config.tty) {
            let process = started
            // The listener owns what it writes to: the stdin pipe (closed at a StdinOnce
            // client's end of input), or a duplicate of the terminal's master.
            let target = started.terminal.map { SharedDescriptor(dup($0)) } ?? SharedDescriptor(inputWriter)
            if started.terminal == nil { inputWriter = -1 }
            input = try? AttachInput.Listener(containerID: config.id, input: target, closable: started.terminal == nil) {
                process.resize($0)
            }
        }
        defer { input?.stop() }
        let running = try? bundle.updateState { state in
            let count = restarting ? state.restartCount : 0
            // A stop that came while the policy's restart was under way still counts.
            let stopped = restarting && state.stoppedByUser
            state = ContainerState()
            state.status = .running
            state.pid = started.pid
            state.shimPid = getpid()
            state.startedAt = Date()
            state.attachments = networks
            state.restartCount = count
            state.stoppedByUser = stopped
        }
        runtime.recordEvent("start", config)
        if let running, running.stoppedByUser {
            try? backend.signal(config, state: running, SIGKILL)
        }
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
        // The networks as they are now: `network connect`/`disconnect` may have changed them.
        let current = (try? bundle.readConfig()) ?? config
        runtime.networking.disconnect(current, attachments: ((try? bundle.readState())?.attachments ?? []) + networks)
        runtime.volumes.detach(config)
        var restarts = false
        // The policy as stored now: `update --restart` may have changed it since the start.
        let policy = (try? bundle.readConfig())?.restartPolicy
        let ended = try? bundle.updateState { state in
            restarts = policy?.restartsAfter(exitCode: code, restartCount: state.restartCount,
                                                            stoppedByUser: state.stoppedByUser) ?? false
            if restarts { state.restartCount += 1 }
            state.attachments = []
            state.status = restarts ? .restarting : .exited
            state.exitCode = code
            state.oomKilled = oom
            state.pid = nil
            state.finishedAt = Date()
        }
        // Swiftlet's addition to Docker's attributes: why a container ended abnormally,
        // which outlives an `--rm` container's state.
        let why = ended?.error.map { ["error": $0] } ?? [:]
        runtime.recordEvent("die", config, ["exitCode": "\(code)"].merging(why) { $1 })
        return (code, restarts)
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
