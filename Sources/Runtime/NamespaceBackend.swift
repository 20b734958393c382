import HostSystem
import AgentProtocol
import CLinux
import Foundation
import Images
#if canImport(Glibc)
import Glibc
#endif

/// Namespace isolation: the container's process runs on the host kernel in new pid,
/// mount, UTS, IPC and network namespaces, on an overlayfs of the image's flattened tree
/// (read-only lower, shared by every container of the image) and the container's own
/// `upper/` and `work/`, with cgroup limits and Docker's default confinement
/// (`ContainerConfinement`: capabilities, seccomp, masked and read-only paths, a private
/// cgroup namespace, a device allow-list). The child side of clone is C (`sl_spawn`,
/// Sources/CLinux/nsexec.c).
struct NamespaceBackend: IsolationBackend {
    func validate(_ options: CreateOptions) throws {}

    func imageRoot(_ image: String, in images: ImageStore) throws -> String {
        try images.unpackedTree(image)
    }

    func prepare(_ config: ContainerConfig, bundle: ContainerBundle) throws {
        for name in ["upper", "work", "rootfs"] + (config.idMapping == nil ? [] : ["lower"]) {
            try sys("mkdir \(bundle.path(name))") { mkdir(bundle.path(name), 0o755) }
        }
        // In a user namespace the overlay is mounted by the container's root: its upper
        // and work directories belong to that root's host ids.
        if let ids = config.idMapping?.hostIDs(uid: 0, gid: 0) {
            for name in ["upper", "work"] {
                try sys("chown \(bundle.path(name))") { chown(bundle.path(name), ids.uid, ids.gid) }
            }
        }
    }

    func start(_ config: ContainerConfig, bundle: ContainerBundle, stdio: [Int32], terminalSize: winsize?,
               network placement: NetworkPlacement) throws -> any ContainerProcess {
        let networks: [NetworkAttachment]
        var names: EtcFiles.Names
        var joined: Int32 = -1
        defer { if joined >= 0 { close(joined) } }
        switch placement {
        case .own(let attachments):
            networks = attachments
            names = .own(address: attachments.first?.address, resolver: attachments.first?.resolver)
        case .host:
            networks = []
            names = .host
        case .joined(let pid, let other, let state):
            networks = []
            names = .own(address: state.network?.address, resolver: state.network?.resolver)
            if other.network == .host { names = .host }
            let path = "/proc/\(pid)/ns/net"
            joined = try sys("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) }
        }
        let network = networks.first
        let user = try ResolvedUser.resolve(config.process.user,
                                            passwd: etcFile("passwd", config: config, bundle: bundle),
                                            group: etcFile("group", config: config, bundle: bundle))
        try EtcFiles.write(upper: bundle.path("upper"), lower: config.rootfs, hostname: config.hostname,
                           names: names, idMapping: config.idMapping)
        let security = config.security ?? SecurityOptions()
        let confinement = try ContainerConfinement(security)
        let group = try Cgroup.create(config.id, limits: config.limits, restrictDevices: !confinement.privileged)
        let arena = CArena()
        var spec = try arena.spec(config.process, user: user, stdio: stdio, confinement: confinement.process)
        try arena.confineRoot(&spec, confinement, security: security)
        spec.rootfs = try arena.string(bundle.path("rootfs"))
        // In a user namespace: the image's tree as its root sees it, and an overlay that
        // keeps its own metadata in user.* xattrs (trusted.* ones need host root).
        let imageTree = try config.idMapping.map { try ImageTreeView(config.rootfs, mapping: $0, bundle: bundle) }
        defer { imageTree?.close() }
        if let imageTree {
            spec.user_namespace = 1
            if let fd = imageTree.treeFD {
                spec.lower_tree_fd = fd
                spec.lower_mountpoint = try arena.string(imageTree.lowerDirectory)
            }
        }
        spec.overlay_data = try arena.string(
            "lowerdir=\(imageTree?.lowerDirectory ?? config.rootfs),upperdir=\(bundle.path("upper")),"
                + "workdir=\(bundle.path("work"))\(imageTree == nil ? "" : ",userxattr")")
        spec.hostname = try arena.string(config.hostname)
        spec.binds = try arena.binds(config.mounts)
        spec.nbinds = config.mounts.count
        switch placement {
        case .host: spec.net_mode = Int32(SL_NET_HOST)
        case .joined:
            spec.net_mode = Int32(SL_NET_JOIN)
            spec.net_join_fd = joined
        case .own: spec.net_mode = Int32(SL_NET_OWN)
        }
        if let network {
            spec.net_interface = try arena.string(network.containerInterface)
            spec.net_address = network.address.networkOrder
            spec.net_prefix = UInt32(network.prefix)
            spec.net_gateway = network.gateway.networkOrder
        }
        do {
            // The child waits while its eth0 is created in its new network namespace.
            return try spawn(&spec, tty: config.tty, terminalSize: terminalSize, cgroup: group) { pid in
                if let mapping = config.idMapping { try mapping.write(toProcess: pid) }
                if let network { try HostLinks.addVeth(network, namespaceOf: pid) }
                for other in networks.dropFirst() { try HostLinks.addVeth(other, namespaceOf: pid, configure: true) }
            }
        } catch {
            group.remove()
            throw error
        }
    }

    func cleanup(_ config: ContainerConfig, bundle: ContainerBundle) -> Bool {
        let group = Cgroup.locate(config.id)
        let oom = group.oomKilled()
        group.remove()
        return oom
    }

    func exec(_ config: ContainerConfig, state: ContainerState, process: ProcessSpec, stdio: [Int32],
              tty: Bool, terminalSize: winsize?) throws -> any ContainerProcess {
        guard state.status == .running, let pid = state.pid else {
            throw SwiftletError("container \(config.id) is not running")
        }
        let root = "/proc/\(pid)/root"
        let user = try ResolvedUser.resolve(process.user,
                                            passwd: (try? String(contentsOfFile: "\(root)/etc/passwd", encoding: .utf8)) ?? "",
                                            group: (try? String(contentsOfFile: "\(root)/etc/group", encoding: .utf8)) ?? "")
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for name in (config.idMapping == nil ? [] : ["user"]) + ["ipc", "uts", "net", "pid", "mnt"] {
            let path = "/proc/\(pid)/ns/\(name)"
            fds.append(try sys("open \(path)") { open(path, O_RDONLY | O_CLOEXEC) })
        }
        let arena = CArena()
        let confinement = try ContainerConfinement(config.security ?? SecurityOptions())
        var spec = try arena.spec(process, user: user, stdio: stdio, confinement: confinement.process)
        spec.join_pid = pid
        let nsFDs = UnsafeMutablePointer<Int32>.allocate(capacity: fds.count)
        defer { nsFDs.deallocate() }
        nsFDs.initialize(from: fds, count: fds.count)
        spec.ns_fds = UnsafePointer(nsFDs)
        spec.n_ns_fds = fds.count
        return try spawn(&spec, tty: tty, terminalSize: terminalSize, cgroup: Cgroup.locate(config.id))
    }

    func signal(_ config: ContainerConfig, state: ContainerState, _ signal: Int32) throws {
        guard state.status == .running, let pid = state.pid else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        let pidfd = try sys("pidfd_open \(pid)") { sl_pidfd_open(pid) }
        defer { close(pidfd) }
        try sys("sending signal \(signal) to \(pid)") { sl_pidfd_send_signal(pidfd, signal) }
    }

    /// `spawn`, with a console socket when `tty`: the child sends its terminal's master.
    private func spawn(_ spec: inout sl_spec, tty: Bool, terminalSize: winsize?, cgroup: Cgroup,
                       beforeRelease: (pid_t) throws -> Void = { _ in }) throws -> NamespaceProcess {
        guard tty else {
            return NamespaceProcess(pid: try spawn(&spec, cgroup: cgroup, beforeRelease: beforeRelease), terminal: nil)
        }
        var console: [Int32] = [-1, -1]
        try sys("socketpair") { sl_socketpair_cloexec(&console) }
        defer { close(console[0]) }
        spec.tty = 1
        spec.console_socket = console[1]
        spec.rows = terminalSize?.ws_row ?? 0
        spec.columns = terminalSize?.ws_col ?? 0
        let pid: pid_t
        do {
            defer { close(console[1]) }
            pid = try spawn(&spec, cgroup: cgroup, beforeRelease: beforeRelease)
        }
        // No terminal when the child failed before opening it (its error is on stderr).
        let terminal = sl_recv_fd(console[0])
        return NamespaceProcess(pid: pid, terminal: terminal > 0 ? terminal : nil)
    }

    /// Clones the child, puts it in the cgroup, runs `beforeRelease` (the child exists,
    /// its namespaces too, and it waits), then lets it run.
    private func spawn(_ spec: inout sl_spec, cgroup: Cgroup, beforeRelease: (pid_t) throws -> Void) throws -> pid_t {
        var sync: [Int32] = [-1, -1]
        try sys("pipe2") { sl_pipe_cloexec(&sync) }
        defer { close(sync[0]) }
        spec.sync_fd = sync[0]
        spec.sync_close_fd = sync[1]
        let pid = withUnsafePointer(to: &spec) { sl_spawn($0) }
        if pid < 0 {
            let error = errno
            close(sync[1])
            throw SwiftletError("cannot clone the container process", errno: error)
        }
        do {
            try cgroup.add(pid)
            try beforeRelease(pid)
        } catch {
            kill(pid, SIGKILL)
            close(sync[1])
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            throw error
        }
        defer { close(sync[1]) }
        let go: [UInt8] = [1]
        // Should this fail, the child reads EOF and exits 125; the monitor reaps it.
        try sys("releasing container process \(pid)") { write(sync[1], go, 1) }
        return pid
    }

    /// The container's /etc file as the container will see it: the upper dir's copy if
    /// the container wrote one, else the image's.
    private func etcFile(_ name: String, config: ContainerConfig, bundle: ContainerBundle) -> String {
        for path in [bundle.path("upper/etc/\(name)"), "\(config.rootfs)/etc/\(name)"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text }
        }
        return ""
    }
}

/// C copies of the strings and arrays an `sl_spec` points to, freed with the arena.
private final class CArena {
    /// The capabilities this process may pass on (CapBnd of /proc/self/status): where the
    /// host withholds some, `--privileged` and `--cap-add ALL` get what there is, as runc's.
    static let boundingSet: UInt64 = {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }
        return line.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) } ?? ~0
    }()

    private var allocations: [UnsafeMutableRawPointer] = []

    deinit { allocations.forEach { free($0) } }

    func string(_ text: String) throws -> UnsafePointer<CChar> {
        guard let copy = strdup(text) else { throw SwiftletError("out of memory") }
        allocations.append(UnsafeMutableRawPointer(copy))
        return UnsafePointer(copy)
    }

    func allocate<T>(_ type: T.Type, count: Int) throws -> UnsafeMutablePointer<T> {
        guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else { throw SwiftletError("out of memory") }
        allocations.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NULL-terminated array of C strings.
    func strings(_ list: [String]) throws -> UnsafePointer<UnsafePointer<CChar>?> {
        let array = try allocate(UnsafePointer<CChar>?.self, count: list.count + 1)
        for (index, text) in list.enumerated() { array[index] = try string(text) }
        array[list.count] = nil
        return UnsafePointer(array)
    }

    func binds(_ mounts: [MountSpec]) throws -> UnsafePointer<sl_bind> {
        let array = try allocate(sl_bind.self, count: mounts.count)
        for (index, mount) in mounts.enumerated() {
            array[index] = sl_bind(source: try string(mount.source), target: try string(mount.destination),
                                   readonly: mount.readOnly ? 1 : 0)
        }
        return UnsafePointer(array)
    }

    /// The root's confinement in a spec: masked and read-only paths, tmpfs mounts,
    /// sysctls, the host's devices and a writable /sys when privileged, a private cgroup
    /// namespace.
    func confineRoot(_ spec: inout sl_spec, _ confinement: ContainerConfinement, security: SecurityOptions) throws {
        spec.masked_paths = try strings(confinement.root.maskedPaths)
        spec.readonly_paths = try strings(confinement.root.readonlyPaths)
        spec.readonly_rootfs = confinement.root.readOnlyRootfs ? 1 : 0
        spec.writable_sysfs = confinement.privileged ? 1 : 0
        spec.nodev_rootfs = confinement.privileged ? 0 : 1
        spec.new_cgroup_namespace = 1
        let tmpfs = try allocate(sl_tmpfs.self, count: security.tmpfs.count)
        for (index, mount) in security.tmpfs.enumerated() {
            let arguments = try mount.mountArguments()
            tmpfs[index] = sl_tmpfs(target: try string(mount.destination), flags: arguments.flags,
                                    data: try string(arguments.data))
        }
        spec.tmpfs = UnsafePointer(tmpfs)
        spec.ntmpfs = security.tmpfs.count
        let sysctls = try allocate(sl_sysctl.self, count: security.sysctls.count)
        for (index, sysctl) in security.sysctls.enumerated() {
            sysctls[index] = sl_sysctl(path: try string(sysctl.path), value: try string(sysctl.value))
        }
        spec.sysctls = UnsafePointer(sysctls)
        spec.nsysctls = security.sysctls.count
        let hostDevices = confinement.privileged ? ContainerConfinement.hostDevices() : []
        let devices = try allocate(sl_device.self, count: hostDevices.count)
        for (index, device) in hostDevices.enumerated() {
            devices[index] = sl_device(path: try string(device.path), mode: device.mode, rdev: device.rdev)
        }
        spec.devices = UnsafePointer(devices)
        spec.ndevices = hostDevices.count
    }

    /// The process part of a spec: argv, env (HOME added from the user's entry when
    /// missing, as Docker does), cwd, credentials, capabilities, seccomp, stdio.
    func spec(_ process: ProcessSpec, user: ResolvedUser, stdio: [Int32], confinement: ProcessConfinement) throws -> sl_spec {
        var env = process.env
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(user.home)") }
        var spec = sl_spec()
        spec.argv = try strings(process.args)
        spec.envp = try strings(env)
        spec.cwd = try string(process.cwd)
        spec.hostname = try string("")
        spec.uid = user.uid
        spec.gid = user.gid
        let groups = try allocate(gid_t.self, count: user.groups.count)
        for (index, gid) in user.groups.enumerated() { groups[index] = gid }
        spec.groups = UnsafePointer(groups)
        spec.ngroups = user.groups.count
        spec.capabilities = confinement.capabilities & Self.boundingSet
        spec.confinement.no_new_privs = confinement.noNewPrivileges ? 1 : 0
        if !confinement.seccompFilter.isEmpty {
            let program = try allocate(UInt8.self, count: confinement.seccompFilter.count)
            program.initialize(from: confinement.seccompFilter, count: confinement.seccompFilter.count)
            spec.confinement.seccomp_program = UnsafeRawPointer(program)
            spec.confinement.seccomp_instructions = UInt16(confinement.seccompFilter.count / 8)
        }
        let lastCap = (try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 40
        spec.last_cap = lastCap
        spec.stdio = (stdio[0], stdio[1], stdio[2])
        return spec
    }
}
