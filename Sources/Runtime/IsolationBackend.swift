import Images
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// How one kind of isolation runs containers; `Runtime` owns everything else (state
/// directories, config merging, lifecycle, logs, volumes, the monitor process) and calls
/// the backend at these points. A backend keeps no state in memory between calls: every
/// call may come from a different process (the CLI, the container's monitor).
public protocol IsolationBackend: Sendable {
    /// Refuses, with one line saying why, what this backend cannot run on this host or
    /// with these options; called first by `create`, before anything is built.
    func validate(_ options: CreateOptions) throws

    /// The image's root as this backend mounts it, built on first use and shared by every
    /// container of the image (namespace: the flattened tree; microVM: the EROFS image).
    func imageRoot(_ image: String, in images: ImageStore) throws -> String

    /// Prepares per-container storage at `create` (namespace: overlay upper/work dirs;
    /// microVM: the writable disk).
    func prepare(_ config: ContainerConfig, bundle: ContainerBundle) throws

    /// Starts the container's process with `stdio` (fds for 0, 1, 2) as its standard
    /// streams (with `config.tty` and a host-side terminal, only until that terminal
    /// exists; it starts with `terminalSize` if given). Runs in the container's monitor
    /// process; the caller closes `stdio` once this returns (a backend keeps duplicates).
    /// With a stack of its own, for each attachment the backend creates the host end of
    /// the container's link (`hostInterface`, on the network's bridge) and gives the
    /// container's interface (eth0, eth1, …) the attachment's address and MAC; the first
    /// also gets the default route; without attachments, the container has loopback only.
    /// Otherwise it keeps the host's stack or joins another container's.
    func start(_ config: ContainerConfig, bundle: ContainerBundle, stdio: [Int32], terminalSize: winsize?,
               network: NetworkPlacement) throws -> any ContainerProcess

    /// Releases what `start` acquired once the process has ended; returns whether the
    /// process was killed for exceeding its memory limit.
    func cleanup(_ config: ContainerConfig, bundle: ContainerBundle) -> Bool

    /// Starts another process inside the running container (`exec`) with `stdio`, or a
    /// terminal of `terminalSize` when `tty`.
    func exec(_ config: ContainerConfig, state: ContainerState, process: ProcessSpec, stdio: [Int32],
              tty: Bool, terminalSize: winsize?) throws -> any ContainerProcess

    /// Delivers `signal` to the container's init process.
    func signal(_ config: ContainerConfig, state: ContainerState, _ signal: Int32) throws
}

/// A container's process (or an `exec`ed one) as a backend started it: what the monitor
/// and `exec` wait for, and whose terminal they resize.
public protocol ContainerProcess: Sendable {
    /// The host process recorded as the container's `pid` while it runs (namespace: the
    /// container's init; microVM: the VMM).
    var pid: pid_t { get }

    /// The master side of the process's pseudo-terminal when the host holds one
    /// (namespace with a TTY): its output is read from there and input written to it.
    /// Nil when output goes to the stdio given at start (a microVM carries terminal I/O
    /// over those streams too).
    var terminal: Int32? { get }

    /// Blocks until the process has ended and all of its output has been written;
    /// returns its exit code (128+N when killed by signal N).
    func wait() -> Int32

    /// Passes the client's new window size on to the process's terminal.
    func resize(_ size: winsize)
}

/// A namespace container's process, a child of the caller: waited for with `waitpid`, its terminal (if
/// any) resized with TIOCSWINSZ on the master.
struct NamespaceProcess: ContainerProcess {
    let pid: pid_t
    let terminal: Int32?

    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        return WaitStatus.exitCode(status)
    }

    func resize(_ size: winsize) {
        guard let terminal else { return }
        var size = size
        _ = ioctl(terminal, UInt(TIOCSWINSZ), &size)
    }
}

extension Runtime {
    /// The backend for an isolation kind.
    static func backend(_ isolation: Isolation) -> any IsolationBackend {
        switch isolation {
        case .namespace: return NamespaceBackend()
        case .microvm: return MicroVMBackend()
        }
    }
}
