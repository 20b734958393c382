#if canImport(Glibc)
import Glibc
#endif

/// How one kind of isolation runs containers; `Runtime` owns everything else (state
/// directories, config merging, lifecycle, logs, volumes, the monitor process) and calls
/// the backend at these points. A backend keeps no state in memory between calls: every
/// call may come from a different process (the CLI, the container's monitor).
public protocol IsolationBackend: Sendable {
    /// Prepares per-container storage at `create` (namespace: overlay upper/work dirs;
    /// microVM: the writable disk).
    func prepare(_ config: ContainerConfig, bundle: ContainerBundle) throws

    /// Starts the container's process with `stdio` (fds for 0, 1, 2) as its standard
    /// streams (with `config.tty`, only until its terminal exists, which starts with
    /// `terminalSize` if given) and returns it. Runs in the container's monitor process.
    func start(_ config: ContainerConfig, bundle: ContainerBundle, stdio: [Int32], terminalSize: winsize?) throws -> StartedProcess

    /// Releases what `start` acquired once the process has been reaped; returns whether
    /// the process was killed for exceeding its memory limit.
    func cleanup(_ config: ContainerConfig, bundle: ContainerBundle) -> Bool

    /// Starts another process inside the running container (`exec`) with `stdio`, or a
    /// new terminal of `terminalSize` when `tty`; the returned pid is a child of the
    /// caller whose exit status is the process's (128+N when killed by signal N).
    func exec(_ config: ContainerConfig, state: ContainerState, process: ProcessSpec, stdio: [Int32],
              tty: Bool, terminalSize: winsize?) throws -> StartedProcess

    /// Delivers `signal` to the container's init process.
    func signal(_ config: ContainerConfig, state: ContainerState, _ signal: Int32) throws
}

/// A container's process as a backend started it.
public struct StartedProcess: Sendable {
    /// A child of the monitor whose exit status is the container's (namespace: the
    /// container's init; microVM: the VMM process).
    public var pid: pid_t
    /// The master side of the container's pseudo-terminal when it has a TTY.
    public var terminal: Int32?

    public init(pid: pid_t, terminal: Int32?) {
        self.pid = pid
        self.terminal = terminal
    }
}

extension Runtime {
    /// The backend for an isolation kind, or an error saying why it is unavailable.
    static func backend(_ isolation: Isolation) throws -> any IsolationBackend {
        switch isolation {
        case .namespace:
            return NamespaceBackend()
        case .microvm:
            throw RuntimeError("isolation 'microvm' is not available yet (issue 6); use --isolation namespace")
        }
    }
}
