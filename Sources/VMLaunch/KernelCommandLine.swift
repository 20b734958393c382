/// The Linux kernel command line Swiftlet boots its guests with
/// (Documentation/admin-guide/kernel-parameters.txt), built in one place: the console,
/// how the guest reboots (`reboot=k`: through the i8042 keyboard controller, which the
/// VMM turns into its exit), what a panic does (`panic=N`: reboot after N seconds, at once
/// for a negative N), no PCI probing (the devices are virtio-mmio), `quiet`, and the init
/// program's own arguments after `--`.
public struct KernelCommandLine: Equatable, Sendable, CustomStringConvertible {
    /// Where the kernel's console goes.
    public enum Console: String, Sendable {
        /// COM1, the 8250 UART.
        case serial = "ttyS0"
        /// The virtio console.
        case virtio = "hvc0"
    }

    public var console: Console
    /// Seconds after a panic before the kernel reboots (`panic=`); negative: at once.
    public var panicTimeout: Int
    public var quiet: Bool
    /// Parameters added after the standard ones (e.g. `virtio_mmio.device=…`).
    public var extra: [String]
    /// Arguments the kernel passes to init (after `--`).
    public var initArguments: [String]

    /// The defaults of `swiftlet boot`: reboot one second after a panic, kernel messages shown.
    public init(console: Console = .serial, panicTimeout: Int = 1, quiet: Bool = false, extra: [String] = [],
                initArguments: [String] = []) {
        self.console = console
        self.panicTimeout = panicTimeout
        self.quiet = quiet
        self.extra = extra
        self.initArguments = initArguments
    }

    /// For a guest whose end is the VMM's exit (containers, tests, benchmarks): quiet, and
    /// a panic ends the VM at once instead of hanging it.
    public static func unattended(console: Console = .serial, initArguments: [String] = []) -> KernelCommandLine {
        KernelCommandLine(console: console, panicTimeout: -1, quiet: true, initArguments: initArguments)
    }

    public var description: String {
        var words = ["console=\(console.rawValue)", "reboot=k", "panic=\(panicTimeout)", "pci=off"]
        if quiet { words.append("quiet") }
        words += extra
        if !initArguments.isEmpty { words += ["--"] + initArguments }
        return words.joined(separator: " ")
    }
}
