/// One message of the agent protocol (docs/architecture.md, "Processes"). Each
/// session is one vsock connection: both sides send `hello` first; the host then sends
/// `run` (first session) or `exec`; the guest answers `started` or `failed`, relays the
/// process's output and ends with `exited`.
public enum AgentMessage: Equatable, Sendable {
    /// Kind 1, both ways: the first message of every session.
    case hello(version: UInt16)
    /// Kind 2, host→guest: set up the container filesystem, then start the main process.
    case run(ContainerSetup, ProcessStart)
    /// Kind 3, host→guest: start another process in the running container.
    case exec(ProcessStart)
    /// Kind 4, guest→host: the process is running.
    case started(pid: Int32)
    /// Kind 5, guest→host: setup or start failed; Docker's status (125/126/127) and runc's
    /// line without a program prefix (e.g. `unable to start container process: exec:
    /// "nope": executable file not found in $PATH`).
    case failed(status: Int32, message: String)
    /// Kind 6, host→guest: bytes for the process's stdin.
    case stdin([UInt8])
    /// Kind 7, host→guest: end of the process's stdin.
    case closeStdin
    /// Kind 8, guest→host: the process's stdout (with a TTY: the terminal output).
    case stdout([UInt8])
    /// Kind 9, guest→host: the process's stderr (never with a TTY).
    case stderr([UInt8])
    /// Kind 10, host→guest: deliver this signal to the session's process.
    case signal(Int32)
    /// Kind 11, host→guest: set the session terminal's window size.
    case resize(rows: UInt16, columns: UInt16)
    /// Kind 12, guest→host: the process ended with this exit code (128+N: killed by
    /// signal N); sent after all of its output, the last message of the session.
    case exited(status: Int32)

    /// The kind byte that starts the frame body.
    public var kind: UInt8 {
        switch self {
        case .hello: 1
        case .run: 2
        case .exec: 3
        case .started: 4
        case .failed: 5
        case .stdin: 6
        case .closeStdin: 7
        case .stdout: 8
        case .stderr: 9
        case .signal: 10
        case .resize: 11
        case .exited: 12
        }
    }
}

/// How the agent builds the container (`run`): the root filesystem (the image's read-only
/// EROFS disk under an overlay whose upper and work dirs live on the writable ext4 disk,
/// plus volumes), the hostname, and the network (loopback always; eth0 when given).
public struct ContainerSetup: Equatable, Sendable {
    public var hostname: String
    /// Guest block device of the image's read-only EROFS rootfs, e.g. "/dev/vda".
    public var rootfs: String
    /// Guest block device of the container's ext4 writable disk, e.g. "/dev/vdb".
    public var writable: String
    public var volumes: [VolumeMount]
    /// The container's network interface (a virtio-net on the host's bridge), nil for
    /// loopback only (`--network none`).
    public var network: InterfaceSetup?
    /// Masked and read-only paths, a read-only root (version 3).
    public var confinement: RootConfinement
    /// `--privileged`: /sys mounted read-write.
    public var writableSysfs: Bool
    public var tmpfs: [TmpfsSetup]
    public var sysctls: [SysctlSetup]

    public init(hostname: String, rootfs: String, writable: String, volumes: [VolumeMount] = [],
                network: InterfaceSetup? = nil,
                confinement: RootConfinement = .docker(privileged: false, readOnlyRootfs: false),
                writableSysfs: Bool = false, tmpfs: [TmpfsSetup] = [], sysctls: [SysctlSetup] = []) {
        self.hostname = hostname
        self.rootfs = rootfs
        self.writable = writable
        self.volumes = volumes
        self.network = network
        self.confinement = confinement
        self.writableSysfs = writableSysfs
        self.tmpfs = tmpfs
        self.sysctls = sysctls
    }
}

/// A tmpfs the agent mounts in the container root (`--tmpfs`): mount(2) flags and the
/// tmpfs options, parsed on the host.
public struct TmpfsSetup: Equatable, Sendable {
    public var target: String
    public var flags: UInt64
    public var data: String

    public init(target: String, flags: UInt64, data: String) {
        self.target = target
        self.flags = flags
        self.data = data
    }
}

/// A kernel parameter the agent sets before the container's process starts (`--sysctl`;
/// the guest kernel is the container's own): the /proc/sys file and its value.
public struct SysctlSetup: Equatable, Sendable {
    public var path: String
    public var value: String

    public init(path: String, value: String) {
        self.path = path
        self.value = value
    }
}

/// An IPv4 interface for the agent to configure: bring `name` up with `address`/`prefix`
/// and a default route through `gateway` (dotted-quad strings); `resolvConf` is the
/// container's /etc/resolv.conf (empty: the image's stays).
public struct InterfaceSetup: Equatable, Sendable {
    public var name: String
    public var address: String
    public var prefix: UInt8
    public var gateway: String
    public var resolvConf: String

    public init(name: String, address: String, prefix: UInt8, gateway: String, resolvConf: String = "") {
        self.name = name
        self.address = address
        self.prefix = prefix
        self.gateway = gateway
        self.resolvConf = resolvConf
    }
}

/// An ext4 block device mounted at `target` inside the container root (created if missing).
public struct VolumeMount: Equatable, Sendable {
    public var device: String
    public var target: String
    public var readOnly: Bool

    public init(device: String, target: String, readOnly: Bool) {
        self.device = device
        self.target = target
        self.readOnly = readOnly
    }
}

/// A process to start in the container: arguments, environment ("K=V", already merged
/// with Docker's rules), absolute working directory, user (`""`, `name`, `uid`,
/// `name:group`, `uid:gid`, resolved by the agent with runc's rules: `ResolvedUser`),
/// a terminal with its initial size, or pipes, and its confinement (version 3).
public struct ProcessStart: Equatable, Sendable {
    public var args: [String]
    public var env: [String]
    public var cwd: String
    public var user: String
    public var tty: Bool
    public var rows: UInt16
    public var columns: UInt16
    public var confinement: ProcessConfinement

    public init(args: [String], env: [String] = [], cwd: String = "/", user: String = "",
                tty: Bool = false, rows: UInt16 = 0, columns: UInt16 = 0,
                confinement: ProcessConfinement = ProcessConfinement(capabilities: Capabilities.dockerDefault.mask)) {
        self.args = args
        self.env = env
        self.cwd = cwd
        self.user = user
        self.tty = tty
        self.rows = rows
        self.columns = columns
        self.confinement = confinement
    }
}
