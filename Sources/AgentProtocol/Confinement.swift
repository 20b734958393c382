/// What confines a container's processes, the same under both isolations: the process
/// part (runtime spec config.md `process.capabilities`, `noNewPrivileges`; config-linux.md
/// `seccomp`), which every process of the container gets, `exec`ed ones too.
public struct ProcessConfinement: Equatable, Sendable {
    /// Bounding set; also effective, permitted and inheritable for uid 0.
    public var capabilities: UInt64
    public var noNewPrivileges: Bool
    /// A compiled seccomp filter (`struct sock_filter` array, native byte order); empty: none.
    public var seccompFilter: [UInt8]

    public init(capabilities: UInt64, noNewPrivileges: Bool = false, seccompFilter: [UInt8] = []) {
        self.capabilities = capabilities
        self.noNewPrivileges = noNewPrivileges
        self.seccompFilter = seccompFilter
    }
}

/// The file system part (runtime spec config-linux.md `maskedPaths`, `readonlyPaths`,
/// config.md `root.readonly`): Docker's lists by default (moby oci/defaults.go), none for
/// `--privileged`.
public struct RootConfinement: Equatable, Sendable {
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var readOnlyRootfs: Bool

    public init(maskedPaths: [String], readonlyPaths: [String], readOnlyRootfs: Bool) {
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.readOnlyRootfs = readOnlyRootfs
    }

    /// Docker's default masked paths: files get /dev/null over them, directories an empty
    /// read-only tmpfs.
    public static let dockerMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]

    /// Docker's default read-only paths.
    public static let dockerReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// Docker's defaults (`readOnlyRootfs` from `--read-only`), or nothing for `--privileged`.
    public static func docker(privileged: Bool, readOnlyRootfs: Bool) -> RootConfinement {
        privileged ? RootConfinement(maskedPaths: [], readonlyPaths: [], readOnlyRootfs: readOnlyRootfs)
            : RootConfinement(maskedPaths: dockerMaskedPaths, readonlyPaths: dockerReadonlyPaths,
                              readOnlyRootfs: readOnlyRootfs)
    }
}
