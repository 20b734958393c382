import HostSystem
import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A container's config and current state together (what `inspect` prints and `ps` lists).
public struct ContainerInfo: Codable, Sendable {
    public var config: ContainerConfig
    public var state: ContainerState
}

/// One chunk of a container's output as its log recorded it: the stream (1 stdout,
/// 2 stderr), the text and when it was written (RFC 3339, nanoseconds).
public struct LogEntry: Sendable {
    public let stream: Int32
    public let text: String
    public let time: String
}

/// What `wait` waits for (the Engine API's `condition` of `POST /containers/{id}/wait`).
public enum WaitCondition: String, Sendable {
    case notRunning = "not-running", nextExit = "next-exit", removed
}

/// Options of `exec` (Docker's ExecConfig subset).
public struct ExecOptions: Sendable {
    public var command: [String]
    public var env: [String] = []
    public var user: String?
    public var workingDir: String?
    public var interactive = false
    public var tty = false

    public init(command: [String]) {
        self.command = command
    }
}

extension Runtime {
    public func info(_ reference: String) throws -> ContainerInfo {
        let config = try containers.find(reference)
        return ContainerInfo(config: config, state: try refreshedState(config))
    }

    /// Every container (running only unless `all`), newest first.
    public func list(all: Bool) -> [ContainerInfo] {
        containers.all().compactMap { config in
            guard let state = try? refreshedState(config), all || state.isActive else { return nil }
            return ContainerInfo(config: config, state: state)
        }
    }

    /// Sends `signal` to the container's init process (`kill`). As with Docker, the user's
    /// kill (and so `stop` and `rm -f`) also stops the restart policy until the next
    /// `start`; a container waiting to be restarted just stays down.
    public func kill(_ reference: String, signal: Int32) throws {
        let config = try containers.find(reference)
        guard try refreshedState(config).isActive else {
            throw SwiftletError("Cannot kill container: \(reference): container \(config.id) is not running", code: .conflict)
        }
        let state = try containers.bundle(config.id).updateState { $0.stoppedByUser = true }
        if state.status == .running {
            try Runtime.backend(config.isolation).signal(config, state: state, signal)
            if state.isPaused { thawAfterSignal(config) }
        }
        recordEvent("kill", config, ["signal": "\(signal)"])
    }

    /// `stop`: SIGTERM, then SIGKILL when the container is still running after `timeout`
    /// seconds. Stopping a container that is not running does nothing.
    public func stop(_ reference: String, timeout: Double) throws {
        let config = try containers.find(reference)
        guard try refreshedState(config).isActive else { return }
        defer { recordEvent("stop", config) }
        try? kill(config.id, signal: SIGTERM)
        if try waitForExit(config, timeout: timeout) { return }
        try killAndWait(config)
    }

    /// How long a container may take to end after SIGKILL before its monitor is killed as
    /// well (a microVM guest gets `MicroVMBackend.killTimeout` to act on the signal, then
    /// its monitor kills the VM and waits up to `powerOffTimeout` for it).
    static let killGrace: Double = 30

    /// Sends SIGKILL and waits until the container has exited. A container still
    /// running `killGrace` seconds later has a stuck monitor: that is killed too, and the
    /// state then records the exit as the monitor's failure (`refreshedState`), so `stop`
    /// and `rm -f` always end.
    func killAndWait(_ config: ContainerConfig) throws {
        try? kill(config.id, signal: SIGKILL)
        if try waitForExit(config, timeout: Self.killGrace) { return }
        if let shim = try refreshedState(config).shimPid, !hasExited(shim) {
            Glibc.kill(shim, SIGKILL)
        }
        _ = try waitForExit(config, timeout: nil)
    }

    /// Blocks until `condition` holds and returns the container's exit code (`wait`, the
    /// Engine API's `condition`): `notRunning` at once for a container that is not
    /// running, else at its exit; `nextExit` at its next exit (one not running yet is
    /// waited for through its start); `removed` once it has been removed, with the code of
    /// its exit if it has not exited yet. Holds the bundle's wait lock while waiting for an
    /// exit, so an `--rm` container's monitor leaves the recorded exit code in place until
    /// it has been read.
    public func wait(_ reference: String, condition: WaitCondition = .notRunning) throws -> Int32 {
        let config = try containers.find(reference)
        let bundle = containers.bundle(config.id)
        do {
            let code: Int32
            do {
                let hold = try bundle.holdForWaiter()
                defer { close(hold) }
                let before = try refreshedState(config)
                if condition == .nextExit && before.status == .exited {
                    try waitForState(config) { $0.isActive || $0.finishedAt != before.finishedAt }
                }
                // Waiting for the removal of a container that has not exited yet takes the
                // code of its exit (the monitor of an `--rm` one removes it right after).
                if before.isActive || condition == .nextExit || (condition == .removed && before.status == .created) {
                    _ = try waitForExit(config, timeout: nil, orRestart: true)
                }
                code = try refreshedState(config).exitCode ?? 0
            }
            if condition == .removed {
                let changes = try FileChangeWatch(containers.directory)
                while bundle.exists { changes.wait() }
            }
            return code
        } catch {
            if bundle.exists { throw error }
            throw SwiftletError("No such container: \(reference)", code: .notFound)
        }
    }

    /// Waits, on changes to the container's directory, until its state satisfies `until`.
    func waitForState(_ config: ContainerConfig, until: (ContainerState) -> Bool) throws {
        let changes = try FileChangeWatch(containers.bundle(config.id).directory)
        while try !until(refreshedState(config)) { changes.wait() }
    }

    /// Waits until the state says exited (the monitor records the exit before it ends),
    /// with `orRestart` also until the process ended and its restart policy is about to
    /// start it again (Docker's `wait` returns then); false on timeout. Sleeps until the
    /// container's process or its monitor ends; once the process has ended, until the
    /// container's directory changes (the monitor of an `--rm` container outlives the exit
    /// it records, waiting for waiters to read it).
    func waitForExit(_ config: ContainerConfig, timeout: Double?, orRestart: Bool = false) throws -> Bool {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        let changes = try FileChangeWatch(containers.bundle(config.id).directory)
        while true {
            let state = try refreshedState(config)
            if state.status == .exited || (orRestart && state.status == .restarting) { return true }
            let remaining = deadline.map { $0.timeIntervalSinceNow }
            if let remaining, remaining <= 0 { return false }
            let processRuns = state.status == .running && state.pid.map { !hasExited($0) } == true
            let pidfds = processRuns ? [state.pid, state.shimPid].compactMap { $0 }.map { sl_pidfd_open($0) }.filter { $0 >= 0 } : []
            let limit = remaining.map { Int32(min($0 * 1000, 100_000)) } ?? 100_000
            if pidfds.isEmpty {
                changes.wait(timeout: Double(limit) / 1000)
                continue
            }
            var pollers = pidfds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&pollers, nfds_t(pollers.count), limit)
            pidfds.forEach { close($0) }
        }
    }

    /// Runs another process in a running container with this process's stdio (or, without
    /// a TTY, with `stdio`: stdin, stdout and stderr descriptors of the caller's); returns
    /// its exit code.
    public func exec(_ reference: String, _ options: ExecOptions, stdio given: [Int32]? = nil) throws -> Int32 {
        if let given, given.count == 3, !options.tty {
            return try startExec(reference, options, stdio: given, terminalSize: nil).wait()
        }
        let stdin = options.interactive ? 0 : try sys("open /dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        defer { if stdin != 0 { close(stdin) } }
        let started = try startExec(reference, options, stdio: [stdin, 1, 2], terminalSize: Terminal.size(of: [1, 0]))
        var output: DispatchSemaphore?
        var restore: () -> Void = {}
        var resizes: (any DispatchSourceSignal)?
        if options.tty {
            if let terminal = started.terminal {
                output = Terminal.relay(from: terminal, to: 1)
                if options.interactive { Terminal.relay(from: 0, to: terminal) }
            }
            if options.interactive { restore = Terminal.makeRaw() }
            resizes = Terminal.onResize {
                if let size = Terminal.size(of: [1, 0]) { started.resize(size) }
            }
        }
        defer {
            restore()
            resizes?.cancel()
            if let terminal = started.terminal { close(terminal) }
        }
        let code = started.wait()
        output?.wait()
        return code
    }

    /// Starts another process in a running container with `stdio` (stdin, stdout, stderr)
    /// and, with `options.tty`, a terminal of `terminalSize` (its master is the result's
    /// `terminal` where the host holds it); the caller relays, resizes and waits.
    public func startExec(_ reference: String, _ options: ExecOptions, stdio: [Int32], terminalSize: winsize?) throws -> any ContainerProcess {
        let (config, state, process) = try execTarget(reference, options)
        return try Runtime.backend(config.isolation).exec(config, state: state, process: process, stdio: stdio,
                                                          tty: options.tty, terminalSize: terminalSize)
    }

    /// The running container an exec goes into, its state, and the process to run there.
    private func execTarget(_ reference: String, _ options: ExecOptions) throws -> (ContainerConfig, ContainerState, ProcessSpec) {
        let config = try containers.find(reference)
        let state = try refreshedState(config)
        guard state.status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        guard !state.isPaused else { throw Runtime.execInPausedContainer(config.id) }
        guard !options.command.isEmpty else { throw SwiftletError("no command specified") }
        var process = config.process
        process.args = options.command
        for entry in options.env where entry.contains("=") { ProcessMerge.set(entry, in: &process.env) }
        if let user = options.user { process.user = user }
        if let directory = options.workingDir { process.cwd = directory }
        if options.tty && !process.env.contains(where: { $0.hasPrefix("TERM=") }) { process.env.append("TERM=xterm") }
        return (config, state, process)
    }

    /// Copies the container's log to stdout/stderr (by stream); with `follow`, keeps
    /// copying new output until the container is no longer running.
    public func logs(_ reference: String, follow: Bool) throws {
        try logs(reference, follow: follow, tail: nil) { entry in
            writeAll(entry.stream, Data(entry.text.utf8))
        }
    }

    /// Hands the container's log to `deliver`, entry by entry: the last `tail` entries
    /// (all when nil; 0 for only what comes next), then, with `follow`, new ones as they
    /// are written until the container is no longer running, or until `deliver` returns
    /// false (its reader left).
    /// With `untilExit` a container that has not started yet is waited for as well (an
    /// attach made before the start).
    public func logs(_ reference: String, follow: Bool, tail: Int?, untilExit: Bool = false,
                     _ deliver: (LogEntry) -> Bool) throws {
        let config = try containers.find(reference)
        let bundle = containers.bundle(config.id)
        let path = bundle.logPath
        // The log grows and the state is replaced in the container's directory. A
        // follower holds the waiters' lock, so an `--rm` container's monitor leaves the
        // log in place until the follower has read the end of it.
        let changes = follow ? try FileChangeWatch(bundle.directory) : nil
        let hold = follow ? try bundle.holdForWaiter() : -1
        defer { if hold >= 0 { close(hold) } }
        var offset: UInt64 = 0
        var first = true
        while true {
            let status = try refreshedState(config).status
            let running = status == .running || (untilExit && status == .created)
            var (records, next) = ContainerLog.read(path, from: offset)
            offset = next
            if first, let tail { records = Array(records.suffix(max(tail, 0))) }
            first = false
            for record in records {
                guard deliver(LogEntry(stream: record.stream == "stderr" ? 2 : 1, text: record.log, time: record.time)) else { return }
            }
            if !follow || (!running && records.isEmpty) { return }
            if records.isEmpty { changes?.wait() }
        }
    }

    /// Starts the exited containers whose restart policy brings them back when the daemon
    /// starts (`always`, and `unless-stopped` ones the user had not stopped), as dockerd
    /// does after its own restart or the host's reboot. Containers never started stay as
    /// they are. Returns what it started, or tried to: each id with its failure, if any.
    public func startRestartableContainers() -> [(id: String, failure: (any Error)?)] {
        containers.all().reversed().compactMap { config in
            guard let policy = config.restartPolicy, let state = try? refreshedState(config), state.status == .exited,
                  state.startedAt != nil, policy.restartsWithDaemon(stoppedByUser: state.stoppedByUser) else { return nil }
            do {
                _ = try start(config.id, attach: false)
                return (config.id, nil)
            } catch {
                return (config.id, error)
            }
        }
    }

    /// Removes a named volume unless a container uses it.
    public func removeVolume(_ name: String) throws {
        let users = containers.all().filter { $0.mounts.contains { $0.volume == name } }.map { String($0.id.prefix(12)) }
        try volumes.remove(name, users: users)
    }
}
