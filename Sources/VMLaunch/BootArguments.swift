/// The launch contract of `swiftlet-vmm` (and `swiftlet boot`): the value a launcher (the
/// container runtime, `swiftlet boot`, the benchmarks) builds and serialises with
/// ``arguments``, and the VMM parses back with ``init(parsing:)`` without a framework, so
/// that the per-VM process links no Foundation. `--name value` or `--name=value` options,
/// `--disk` and `--net` repeatable, `--boot-timer` and `--no-jail` flags, `-h`/`--help`
/// for the usage text. Values are checked where the machine is configured.
public struct BootArguments: Equatable, Sendable {
    /// Guest RAM when `--memory` is not given.
    public static let defaultMemoryMiB = 256
    public static let defaultMemory = "\(defaultMemoryMiB)M"

    public var kernel: String?
    public var initrd: String?
    public var commandLine: String?
    public var cpus = "1"
    public var memory = defaultMemory
    public var disks: [String] = []
    public var networks: [String] = []
    public var vsock: String?
    public var console = "serial"
    public var bootTimer = false
    /// `--no-jail`: run without the jail (mount namespace, unprivileged ids) a root VMM
    /// enters by default; the seccomp filters stay. For debugging.
    public var noJail = false
    /// `-h` or `--help` was given: print `usage` and exit 0.
    public var help = false

    /// The most vCPUs a machine can have (what its ACPI MADT describes).
    public static let maximumCPUs = 254
    /// The least guest RAM a machine can have.
    public static let minimumMemoryMiB = 16

    public init() {}

    /// Parses `arguments` (without the program name). An unknown option, a missing
    /// value or a stray positional argument is a `ConfigurationError` naming it.
    public init(parsing arguments: [String]) throws(ConfigurationError) {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "-h" || argument == "--help" {
                help = true
                continue
            }
            guard argument.hasPrefix("--") else {
                throw ConfigurationError("unexpected argument \"\(argument)\" (see --help)")
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if name == "boot-timer" {
                guard inlineValue == nil else { throw ConfigurationError("--boot-timer takes no value") }
                bootTimer = true
                continue
            }
            if name == "no-jail" {
                guard inlineValue == nil else { throw ConfigurationError("--no-jail takes no value") }
                noJail = true
                continue
            }
            guard Self.valueOptions.contains(name) else {
                throw ConfigurationError("unknown option \"--\(name)\" (see --help)")
            }
            guard let value = inlineValue ?? remaining.popFirst() else {
                throw ConfigurationError("--\(name) needs a value")
            }
            switch name {
            case "kernel": kernel = value
            case "initrd": initrd = value
            case "cmdline": commandLine = value
            case "cpus": cpus = value
            case "memory": memory = value
            case "disk": disks.append(value)
            case "net": networks.append(value)
            case "vsock": vsock = value
            default: console = value
            }
        }
    }

    static let valueOptions: Set<String> = ["kernel", "initrd", "cmdline", "cpus", "memory", "disk", "net", "vsock", "console"]

    /// The command line that ``init(parsing:)`` reads back as these arguments (without
    /// the program name; `--name=value` spelling, so no value is taken for an option).
    public var arguments: [String] {
        var list: [String] = []
        func add(_ name: String, _ value: String?) {
            if let value { list.append("--\(name)=\(value)") }
        }
        add("kernel", kernel)
        add("initrd", initrd)
        add("cmdline", commandLine)
        add("cpus", cpus)
        add("memory", memory)
        disks.forEach { add("disk", $0) }
        networks.forEach { add("net", $0) }
        add("vsock", vsock)
        add("console", console)
        if bootTimer { list.append("--boot-timer") }
        if noJail { list.append("--no-jail") }
        if help { list.append("--help") }
        return list
    }

    /// The command line used when none is given: ``KernelCommandLine``'s defaults on the
    /// chosen console.
    public var effectiveCommandLine: String {
        commandLine ?? Self.defaultCommandLine(console: console)
    }

    /// ``KernelCommandLine``'s defaults for `--console` (`virtio`: hvc0, else ttyS0).
    public static func defaultCommandLine(console: String) -> String {
        KernelCommandLine(console: console == "virtio" ? .virtio : .serial).description
    }

    public static let usage = """
        OVERVIEW: Boot a Linux kernel in a microVM with its serial console on this terminal.

        USAGE: swiftlet boot --kernel PATH [options]

        OPTIONS:
          --kernel PATH         Kernel to boot: a bzImage, or an ELF vmlinux with a PVH note.
          --initrd PATH         Initial ramdisk (cpio archive, optionally compressed).
          --cmdline TEXT        Kernel command line (default: "\(KernelCommandLine())",
                                or with --console virtio "\(KernelCommandLine(console: .virtio))").
          --cpus N              Number of vCPUs, 1 to \(maximumCPUs) (default: 1).
          --memory SIZE         Guest RAM in bytes, or a number and a binary unit b, k, m, g, t (optionally
                                followed by b or ib: 512MiB, 1.5g, 1gb), as Docker's --memory; at least
                                \(minimumMemoryMiB) MiB (default: \(defaultMemory)).
          --disk PATH[,ro]      A raw disk image as a virtio-blk device (vda, vdb, ... in order). Repeatable.
          --net tap=NAME[,mac=MAC]
                                A virtio-net interface on a host TAP device. Repeatable.
          --vsock cid=N,uds=PATH
                                A virtio-vsock device. The host connects to the guest by connecting to
                                the Unix socket PATH and writing "CONNECT <port>\\n" (answered
                                "OK <hostport>\\n"); guest connections to CID 2 port P go to the Unix
                                socket PATH_P.
          --console serial|virtio
                                Interactive console: serial (COM1, ttyS0; default) or virtio (hvc0).
          --boot-timer          Log writes to the boot-timer port (0x440) with the time since start to stderr.
          --no-jail             When run as root, do not enter the jail (a mount namespace holding only the
                                vsock socket's directory, an unprivileged uid, no_new_privs). For debugging.
          -h, --help            Show this help.

        Exit status: 0 when the guest powers off or reboots, 2 for bad arguments, 1 when the
        VM cannot start or fails, 128+N when stopped by signal N.

        """
}
