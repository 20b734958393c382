import HostSystem
import AgentProtocol
import CLinux
import Glibc
import Synchronization

/// The guest agent: PID 1 of the microVM after `Boot`. Listens on vsock port
/// `AgentProtocol.agentPort`, serves each connection on its own thread, builds the
/// container root on `run` and starts the main process as PID 1 of its own pid namespace
/// there, `exec`s in that process's namespaces; when the main process ends it kills the
/// rest, syncs, unmounts and powers the VM off.
public final class Agent: Sendable {
    private struct State {
        var plan: MountPlan?
        var mainStarted = false
        var mainLaunched = false
        /// The main process's namespaces, open while it may run (nil on a kernel without
        /// pid namespaces: execs then share the agent's).
        var namespaces: ContainerNamespaces?
    }
    private let state = Mutex(State())
    let watcher = ExitWatcher()

    public init() {}

    /// Accepts sessions forever. SIGCHLD must already be blocked (`Boot.prepare`).
    public func serve() throws(SwiftletError) -> Never {
        watcher.start()
        let listener = try sys("listening on vsock port \(AgentProtocol.agentPort)") {
            sa_vsock_listen(AgentProtocol.agentPort, 16)
        }
        consoleLog("listening on vsock port \(AgentProtocol.agentPort) (uptime \(uptime()) s)")
        while true {
            let fd = sa_accept(listener)
            if fd < 0 {
                if errno != EINTR { consoleLog("accept: \(String(cString: strerror(errno)))") }
                continue
            }
            let session = Session(fd: fd, agent: self)
            startThread { session.serve() }
        }
    }

    /// `run`: builds the container root and starts the main process, under the lock so
    /// that an `exec` arriving meanwhile waits for it.
    func run(_ setup: ContainerSetup, _ process: ProcessStart) throws(SwiftletError) -> LaunchedProcess {
        try state.withLock { state throws(SwiftletError) -> LaunchedProcess in
            guard !state.mainStarted else { throw SwiftletError("the container is already running", code: .conflict) }
            state.mainStarted = true
            let plan = try MountPlan(setup)
            try ContainerRoot.build(plan, hostname: setup.hostname)
            state.plan = plan
            try GuestNetwork.configure(setup.network)
            try GuestNetwork.writeEtcFiles(root: MountPlan.root, hostname: setup.hostname, interface: setup.network)
            for sysctl in setup.sysctls {
                try sys("setting sysctl \(sysctl.path)") { sl_write_file(sysctl.path, sysctl.value) }
            }
            consoleLog("container root ready (uptime \(uptime()) s)")
            let launched = try start(process, isMain: true, join: nil, rootConfinement: setup.confinement)
            state.mainLaunched = true
            // Nil when the process has ended already or the kernel has no pid namespaces.
            state.namespaces = try? ContainerNamespaces.of(launched.pid)
            return launched
        }
    }

    /// `exec`: starts another process in the running container.
    func exec(_ process: ProcessStart) throws(SwiftletError) -> LaunchedProcess {
        let (launched, namespaces) = state.withLock { ($0.mainLaunched, $0.namespaces) }
        guard launched else {
            throw SwiftletError("container is not running: exec needs a started container")
        }
        return try start(process, isMain: false, join: namespaces, rootConfinement: nil)
    }

    private func start(_ process: ProcessStart, isMain: Bool, join: ContainerNamespaces?,
                       rootConfinement: RootConfinement?) throws(SwiftletError) -> LaunchedProcess {
        let root = MountPlan.root
        let plan = try ExecPlan(process, passwd: readTextFile("\(root)/etc/passwd") ?? "",
                                group: readTextFile("\(root)/etc/group") ?? "")
        return try ProcessLauncher(root: root, watcher: watcher, isMain: isMain, join: join, rootConfinement: rootConfinement)
            .launch(plan, tty: process.tty, rows: process.rows, columns: process.columns)
    }

    /// The end of the VM: every other process is killed, file systems synced and
    /// unmounted, then reboot(RB_POWER_OFF). The container's mount namespace is released
    /// first (its processes are gone once the main one has been reaped; the agent's
    /// references are closed here), so unmounting really shuts the disks' file systems down.
    func powerOff() -> Never {
        consoleLog("container ended; powering off")
        _ = kill(-1, SIGKILL)
        state.withLock { state in
            state.namespaces?.close()
            state.namespaces = nil
        }
        sync()
        if let plan = state.withLock({ $0.plan }) {
            ContainerRoot.unmount(plan.unmountOrder)
        }
        sync()
        _ = sa_power_off()
        consoleLog("reboot(RB_POWER_OFF) failed: \(String(cString: strerror(errno)))")
        exit(1)
    }
}
