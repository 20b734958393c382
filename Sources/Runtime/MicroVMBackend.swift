import AgentProtocol
import ChildProcess
import CLinux
import Foundation
import Images
import KVM
import Synchronization
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// MicroVM isolation: each container runs in its own VM (`swiftlet-vmm`, a child of the
/// container's monitor) booting the guest kernel with the container initramfs, whose
/// `/init` is the agent swiftlet-init. Disks: the image's EROFS rootfs (shared, read-only),
/// the container's sparse writable ext4 disk `disk.ext4` in its bundle (overlayfs
/// `upper/` and `work/` inside, so data survives stop/start and goes with `rm`), and the
/// named volumes' ext4 images. The host talks to the agent over vsock through the VMM's
/// Unix socket; sockets live in the container's run directory `/run/swiftlet/<id>/`
/// (tmpfs, and short enough for a Unix socket path), the serial console goes to
/// `console.log` in the bundle. The VMM, started as root, confines itself before the guest
/// runs (its own mount namespace holding only the run directory, uid 1e9+pid,
/// no_new_privs, per-thread seccomp filters; see swiftlet-vmm) and runs in the
/// container's cgroup `swiftlet/<id>`, which carries the `--cpus` quota.
struct MicroVMBackend: IsolationBackend {
    /// How long the guest may take from VMM start to an agent listening on vsock (a
    /// nested Linux boot under emulation takes several seconds).
    static let bootTimeout: Duration = .seconds(60)
    /// How long the guest may take to power off after the container's process exited.
    static let powerOffTimeout: Duration = .seconds(10)
    /// How long a guest may ignore a forwarded SIGKILL before the host kills the VM.
    static let killTimeout: Duration = .seconds(5)

    static func runDirectory(_ id: String) -> String { "/run/swiftlet/\(id)" }

    func imageRoot(_ image: String, in images: ImageStore) throws -> String {
        try images.rootfsImage(image)
    }

    func validate(_ options: CreateOptions) throws {
        if case .auto = options.security.userNamespace {
            throw SwiftletError("--userns=auto is not supported with --isolation microvm (the container's root is confined by its own VM kernel)")
        }
        try Self.checkHost()
        _ = try GuestFiles.locate(executable: InstallLayout.running().executable)
        if options.limits.pids != nil {
            throw SwiftletError("--pids-limit is not supported with --isolation microvm (the VM's own kernel has no limit set by the host)")
        }
        let sources = options.volumes.map { String($0.prefix { $0 != ":" }) }
        if let directory = sources.first(where: { $0.hasPrefix("/") }) {
            throw SwiftletError("bind mounts of host directories (\(directory)) are not supported with --isolation microvm; use a named volume")
        }
        let names = sources
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw SwiftletError("volume \(repeated) is mounted twice; a microVM container can mount a volume once")
        }
        guard names.count + 2 <= MicroVMLaunch.maximumDisks else {
            throw SwiftletError("a microVM container can mount at most \(MicroVMLaunch.maximumDisks - 2) volumes")
        }
    }

    func prepare(_ config: ContainerConfig, bundle: ContainerBundle) throws {
        try Ext4Image.create(bundle.path("disk.ext4"), directories: ["upper", "work"])
    }

    /// Fails with one line unless this host's KVM runs Linux guests.
    static func checkHost() throws {
        let kvm = HostKVM.detect()
        guard kvm.runsLinuxGuests else {
            throw SwiftletError("cannot run microVM containers on this host: \(kvm.summary); use --isolation namespace")
        }
    }

    func start(_ config: ContainerConfig, bundle: ContainerBundle, stdio: [Int32], terminalSize: winsize?,
               network placement: NetworkPlacement) throws -> any ContainerProcess {
        guard case .own(let networks) = placement else {
            throw SwiftletError("a microVM container has a network stack of its own: --network \(config.network?.description ?? "") is not supported",
                                code: .invalidArgument)
        }
        guard networks.count <= 1 else {
            throw SwiftletError("a microVM container has one network interface: it cannot be on \(networks.count) networks", code: .invalidArgument)
        }
        let network = networks.first
        let files = try GuestFiles.locate(executable: InstallLayout.running().executable)
        let run = Self.runDirectory(config.id)
        try? FileManager.default.removeItem(atPath: run)
        do {
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        } catch {
            throw SwiftletError("cannot create \(run): \(error.localizedDescription)")
        }
        let volumes = try config.mounts.map { mount in
            guard let image = mount.image else { throw SwiftletError("\(mount.source) is not a named volume") }
            return (path: image, readOnly: mount.readOnly)
        }
        var launch = MicroVMLaunch(files: files, limits: config.limits, rootfs: config.rootfs,
                                   writable: bundle.path("disk.ext4"), volumes: volumes, vsockSocket: "\(run)/vsock.sock")
        if let network {
            try HostLinks.addTap(network)
            launch.network = (tap: network.hostInterface, mac: network.macAddress)
        }
        let security = config.security ?? SecurityOptions()
        let confinement = try ContainerConfinement(security)
        // The VMM's group: --cpus as a CPU quota and CpuShares as its weight on the host (the
        // guest gets whole vCPUs); memory is the guest kernel's to enforce (the VMM's own
        // size is the VM's RAM).
        let group = try Cgroup.create(config.id, limits: ResourceLimits(cpus: config.limits.cpus,
                                                                        cpuShares: config.limits.cpuShares))
        let vmm: ChildProcess
        do {
            vmm = try spawnVMM(launch, console: bundle.path("console.log"))
        } catch {
            group.remove()
            throw error
        }
        do {
            try group.add(vmm.pid)
            let fd = try connect(launch.vsockSocket, vmm: vmm, console: bundle.path("console.log"))
            let setup = ContainerSetup(
                hostname: config.hostname, rootfs: MicroVMLaunch.guestDevice(0), writable: MicroVMLaunch.guestDevice(1),
                volumes: config.mounts.enumerated().map { index, mount in
                    VolumeMount(device: MicroVMLaunch.guestDevice(index + 2), target: mount.destination, readOnly: mount.readOnly)
                },
                network: network.map { network in
                    InterfaceSetup(name: network.containerInterface, address: network.address.description,
                                   prefix: UInt8(network.prefix), gateway: network.gateway.description,
                                   resolvConf: ResolvConf.forContainer(host: ResolvConf.hostText(), resolver: network.resolver))
                },
                confinement: confinement.root, writableSysfs: confinement.privileged,
                tmpfs: try security.tmpfs.map { mount throws(SwiftletError) in
                    let arguments = try mount.mountArguments()
                    return TmpfsSetup(target: mount.destination, flags: UInt64(arguments.flags), data: arguments.data)
                },
                sysctls: security.sysctls.map { SysctlSetup(path: $0.path, value: $0.value) })
            let start = processStart(config.process, tty: config.tty, size: terminalSize, confinement: confinement.process)
            let session = try AgentSession(fd: fd, request: .run(setup, start),
                                           stdio: stdio, tty: config.tty, pid: vmm.pid)
            return try MicroVMProcess(session: session, vmm: vmm, control: "\(run)/control.sock", bundle: bundle)
        } catch {
            _ = vmm.waitKilling(after: 0)
            group.remove()
            throw error
        }
    }

    func cleanup(_ config: ContainerConfig, bundle: ContainerBundle) -> Bool {
        // The monitor reaps the VMM; this catches one left behind by a monitor that died.
        if let pid = try? bundle.readState().pid, Self.isVMM(pid, of: config) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: Self.runDirectory(config.id))
        Cgroup.locate(config.id).remove()
        // The guest kernel's OOM killer logs at KERN_ERR, which `quiet` still prints.
        let console = (try? String(contentsOfFile: bundle.path("console.log"), encoding: .utf8)) ?? ""
        return console.contains("Out of memory: Killed process")
    }

    func exec(_ config: ContainerConfig, state: ContainerState, process: ProcessSpec, stdio: [Int32],
              tty: Bool, terminalSize: winsize?) throws -> any ContainerProcess {
        guard state.status == .running, let pid = state.pid else {
            throw SwiftletError("container \(config.id) is not running")
        }
        let socket = "\(Self.runDirectory(config.id))/vsock.sock"
        let fd: Int32
        do {
            fd = try VsockUnixConnector.connect(udsPath: socket, port: AgentProtocol.agentPort, timeout: .seconds(5))
        } catch {
            throw SwiftletError("cannot reach the agent of container \(config.id): \(error)")
        }
        let confinement = try ContainerConfinement(config.security ?? SecurityOptions())
        return try AgentSession(fd: fd, request: .exec(processStart(process, tty: tty, size: terminalSize,
                                                                    confinement: confinement.process)),
                                stdio: stdio, tty: tty, pid: pid)
    }

    func signal(_ config: ContainerConfig, state: ContainerState, _ signal: Int32) throws {
        guard state.status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        try ControlSocket.request(signal, path: "\(Self.runDirectory(config.id))/control.sock")
    }

    private func processStart(_ process: ProcessSpec, tty: Bool, size: winsize?,
                              confinement: ProcessConfinement) -> ProcessStart {
        ProcessStart(args: process.args, env: process.env, cwd: process.cwd, user: process.user, tty: tty,
                     rows: tty ? size?.ws_row ?? 0 : 0, columns: tty ? size?.ws_col ?? 0 : 0, confinement: confinement)
    }

    /// Starts the VMM with the serial console (and its own messages) going to `console`.
    private func spawnVMM(_ launch: MicroVMLaunch, console: String) throws -> ChildProcess {
        try ChildProcess(launch.arguments, environment: ProcessInfo.processInfo.environment,
                         stdout: .file(console), stderr: .standardOutput)
    }

    /// Connects to the agent once the guest listens; fails when the VMM exits first or the
    /// boot takes longer than `bootTimeout`.
    private func connect(_ socket: String, vmm: ChildProcess, console: String) throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: Self.bootTimeout)
        while true {
            do {
                return try VsockUnixConnector.connect(udsPath: socket, port: AgentProtocol.agentPort, timeout: .milliseconds(500))
            } catch {
                if let status = vmm.wait(timeout: 0) {
                    throw SwiftletError("the microVM stopped before its agent answered (swiftlet-vmm exit status \(status)); "
                                       + "its console \(console) ends: \(Self.lastLines(of: console))")
                }
                if ContinuousClock.now >= deadline {
                    throw SwiftletError("the microVM's agent did not answer within \(Self.bootTimeout) (see \(console)): \(error)")
                }
            }
        }
    }

    /// What an error should quote of a console log, joined by " | ": from the VMM's own
    /// last message (`swiftlet boot: …`, its exit reason and the start of a register
    /// dump) when there is one, else the guest's last lines.
    static func lastLines(of console: String, count: Int = 4) -> String {
        let text = (try? String(contentsOfFile: console, encoding: .utf8)) ?? ""
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { return "(empty)" }
        let quoted = lines.lastIndex { $0.contains("swiftlet boot:") }.map { lines[$0...].prefix(count) } ?? lines.suffix(count)
        return quoted.joined(separator: " | ")
    }

    /// Whether `pid` is this container's VMM (its command line names the container's
    /// vsock socket), not a process that reused the pid.
    static func isVMM(_ pid: pid_t, of config: ContainerConfig) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains("\(runDirectory(config.id))/vsock.sock")
    }

}
