import HostSystem
import AgentProtocol
import CLinux
import Glibc

/// A process started for a session: its pid, the exit eventfd from `ExitWatcher`, and
/// the agent's ends of its stdio: a pty master (TTY) or three pipes.
struct LaunchedProcess {
    let pid: Int32
    let exitEvent: Int32
    /// Where `stdin` bytes go: the pty master or the write end of the stdin pipe.
    let input: Int32
    /// What to relay: (fd, is stderr). With a TTY only the master, as stdout.
    let outputs: [(fd: Int32, isStderr: Bool)]
    /// The pty master, for `resize`.
    let terminal: Int32?
}

/// The namespaces of a running container's main process, which `exec` joins: open
/// `/proc/<pid>/ns/pid` and `/proc/<pid>/ns/mnt`, with the agent's own pid namespace to
/// return to after the fork.
struct ContainerNamespaces: Sendable {
    let pid: Int32
    let mount: Int32
    let agentPID: Int32

    /// Opens the namespaces of process `pid`.
    static func of(_ pid: Int32) throws(SwiftletError) -> ContainerNamespaces {
        let pidNamespace = try sys("opening /proc/\(pid)/ns/pid") { open("/proc/\(pid)/ns/pid", O_RDONLY | O_CLOEXEC) }
        do throws(SwiftletError) {
            let mount = try sys("opening /proc/\(pid)/ns/mnt") { open("/proc/\(pid)/ns/mnt", O_RDONLY | O_CLOEXEC) }
            do throws(SwiftletError) {
                let agent = try sys("opening /proc/self/ns/pid") { open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC) }
                return ContainerNamespaces(pid: pidNamespace, mount: mount, agentPID: agent)
            } catch {
                Glibc.close(mount)
                throw error
            }
        } catch {
            Glibc.close(pidNamespace)
            throw error
        }
    }

    func close() {
        for fd in [pid, mount, agentPID] { _ = Glibc.close(fd) }
    }
}

/// Starts processes in the container through `sa_spawn` (Sources/CLinux/agentexec.c):
/// the main process in new pid and mount namespaces on the container root (when the
/// kernel has pid namespaces), `exec`ed ones in `join`'s. Swift prepares every C string
/// and fd beforehand; the child runs only C.
struct ProcessLauncher {
    let root: String
    let watcher: ExitWatcher
    /// Whether this is the container's main process.
    let isMain: Bool
    /// The running container's namespaces for an `exec` (nil: none to join).
    let join: ContainerNamespaces?
    /// The main process's masked and read-only paths and read-only root, applied in its
    /// new mount namespace (nil for an `exec`, which joins that namespace).
    let rootConfinement: RootConfinement?

    /// The highest capability number this kernel knows.
    static let lastCapability: Int32 = readTextFile("/proc/sys/kernel/cap_last_cap")
        .flatMap { Int32($0.split(separator: "\n").first ?? "") } ?? 40

    /// Starts `plan`; a failure of the child before execve (bad cwd, missing command, …)
    /// comes back through the error pipe as an `SwiftletError` with Docker's status.
    func launch(_ plan: ExecPlan, tty: Bool, rows: UInt16, columns: UInt16) throws(SwiftletError) -> LaunchedProcess {
        var childEnds: [Int32] = []
        var agentEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        do throws(SwiftletError) {
            let stdio: [Int32]
            let input: Int32
            let outputs: [(fd: Int32, isStderr: Bool)]
            var terminal: Int32?
            if tty {
                var master: Int32 = -1
                var slave: Int32 = -1
                try sys("opening a terminal in \(root)/dev/pts") { sa_open_pty("\(root)/dev/pts/ptmx", &master, &slave, rows, columns) }
                agentEnds.append(master)
                childEnds.append(slave)
                stdio = [slave, slave, slave]
                input = master
                outputs = [(master, false)]
                terminal = master
            } else {
                let stdinPipe = try pipe()
                let stdoutPipe = try pipe()
                let stderrPipe = try pipe()
                childEnds += [stdinPipe.read, stdoutPipe.write, stderrPipe.write]
                agentEnds += [stdinPipe.write, stdoutPipe.read, stderrPipe.read]
                stdio = [stdinPipe.read, stdoutPipe.write, stderrPipe.write]
                input = stdinPipe.write
                outputs = [(stdoutPipe.read, false), (stderrPipe.read, true)]
            }
            let errorPipe = try pipe()
            let started = try spawn(plan, stdio: stdio, tty: tty, errorFD: errorPipe.write)
            close(errorPipe.write)
            let failure = readFailure(errorPipe.read)
            close(errorPipe.read)
            if let failure {
                _ = watcher.waitForExit(started.pid, exitEvent: started.exitEvent)
                throw failure
            }
            return LaunchedProcess(pid: started.pid, exitEvent: started.exitEvent, input: input, outputs: outputs, terminal: terminal)
        } catch {
            agentEnds.forEach { close($0) }
            throw error
        }
    }

    private func pipe() throws(SwiftletError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try sys("pipe2") { sl_pipe_cloexec(&fds) }
        return (fds[0], fds[1])
    }

    private func spawn(_ plan: ExecPlan, stdio: [Int32], tty: Bool, errorFD: Int32) throws(SwiftletError) -> (pid: Int32, exitEvent: Int32) {
        let arena = CStringArena()
        let argv = arena.array(plan.argv)
        let envp = arena.array(plan.env)
        let groups = UnsafeMutablePointer<gid_t>.allocate(capacity: max(plan.user.groups.count, 1))
        defer { groups.deallocate() }
        for (index, gid) in plan.user.groups.enumerated() { groups[index] = gid }
        var spec = sa_spec()
        spec.root = UnsafePointer(arena.string(root))
        spec.new_namespaces = isMain ? 1 : 0
        spec.join_pid_ns = join?.pid ?? -1
        spec.join_mnt_ns = join?.mount ?? -1
        spec.home_pid_ns = join?.agentPID ?? -1
        spec.argv = argv
        spec.envp = envp
        spec.cwd = UnsafePointer(arena.string(plan.cwd))
        spec.uid = plan.user.uid
        spec.gid = plan.user.gid
        spec.groups = UnsafePointer(groups)
        spec.ngroups = plan.user.groups.count
        spec.capabilities = plan.confinement.capabilities
        spec.last_cap = ProcessLauncher.lastCapability
        spec.confinement.no_new_privs = plan.confinement.noNewPrivileges ? 1 : 0
        let filter = plan.confinement.seccompFilter
        let program = UnsafeMutablePointer<UInt8>.allocate(capacity: max(filter.count, 1))
        defer { program.deallocate() }
        program.initialize(from: filter, count: filter.count)
        if !filter.isEmpty {
            spec.confinement.seccomp_program = UnsafeRawPointer(program)
            spec.confinement.seccomp_instructions = UInt16(filter.count / 8)
        }
        if let rootConfinement {
            spec.masked_paths = arena.array(rootConfinement.maskedPaths)
            spec.readonly_paths = arena.array(rootConfinement.readonlyPaths)
            spec.readonly_rootfs = rootConfinement.readOnlyRootfs ? 1 : 0
        }
        spec.stdio = (stdio[0], stdio[1], stdio[2])
        spec.tty = tty ? 1 : 0
        spec.error_fd = errorFD
        return try watcher.spawn { () throws(SwiftletError) -> Int32 in
            try sys("fork") { sa_spawn(&spec) }
        }
    }

    /// The child's `sa_failure` from the error pipe, or nil at EOF without one (execve
    /// succeeded and closed the pipe).
    private func readFailure(_ fd: Int32) -> SwiftletError? {
        let bytes = readToEnd(fd)
        guard bytes.count >= 4 else { return nil }
        let status = Int32(bitPattern: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        let text = bytes[4...].prefix { $0 != 0 }
        return SwiftletError(String(decoding: text, as: UTF8.self), code: .init(exitStatus: status))
    }
}

/// C strings and NULL-terminated string arrays that live as long as the arena.
final class CStringArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(text)!
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    func array(_ texts: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let size = MemoryLayout<UnsafePointer<CChar>?>.stride * (texts.count + 1)
        let array = malloc(size)!.bindMemory(to: UnsafePointer<CChar>?.self, capacity: texts.count + 1)
        for (index, text) in texts.enumerated() { array[index] = UnsafePointer(string(text)) }
        array[texts.count] = nil
        allocations.append(UnsafeMutableRawPointer(array))
        return UnsafePointer(array)
    }

    deinit {
        for allocation in allocations { free(allocation) }
    }
}
