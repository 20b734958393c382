#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import Machine

/// `swiftlet boot` (the `swiftlet-vmm` executable): boots a Linux kernel (bzImage or PVH
/// ELF) in a microVM with the serial console on this terminal; exits 0 when the guest
/// powers off or reboots. It is a separate executable so that the per-VM process links
/// no Foundation: `swiftlet boot` execs it.
@main
struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet boot",
        abstract: "Boot a Linux kernel in a microVM with its serial console on this terminal."
    )

    @Option(help: "Kernel to boot: a bzImage, or an ELF vmlinux with a PVH note.")
    var kernel: String?

    @Option(help: "Initial ramdisk (cpio archive, optionally compressed).")
    var initrd: String?

    @Option(help: "Kernel command line (default: \"\(MachineConfiguration.defaultCommandLine)\", or with --console virtio \"\(MachineConfiguration.defaultVirtioCommandLine)\").")
    var cmdline: String?

    @Option(help: "Number of vCPUs.")
    var cpus: String = "1"

    @Option(help: "Guest RAM, e.g. 256M or 2G.")
    var memory: String = "256M"

    @Option(name: .customLong("disk"), help: "A raw disk image as a virtio-blk device (vda, vdb, ... in order); PATH[,ro]. Repeatable.")
    var disks: [String] = []

    @Option(name: .customLong("net"), help: "A virtio-net interface on a host TAP device: tap=NAME[,mac=MAC]. Repeatable.")
    var networks: [String] = []

    @Option(help: "A virtio-vsock device: cid=N,uds=PATH. The host connects to the guest by connecting to the Unix socket PATH and writing \"CONNECT <port>\\n\" (answered \"OK <hostport>\\n\"); guest connections to CID 2 port P go to the Unix socket PATH_P.")
    var vsock: String?

    @Option(help: "Interactive console: serial (COM1, ttyS0) or virtio (hvc0; default cmdline then uses console=hvc0).")
    var console: String = "serial"

    @Flag(help: "Log writes to the boot-timer port (0x440) with the time since start to stderr.")
    var bootTimer = false

    func run() throws {
        let start = BootTimerPort.monotonicNanoseconds()
        let machine: Machine
        do {
            let configuration = try MachineConfiguration.fromOptions(
                kernel: kernel, initrd: initrd, commandLine: cmdline, cpus: cpus, memory: memory,
                bootTimerLogging: bootTimer, startNanoseconds: start, disks: disks, networks: networks,
                console: console, vsock: vsock)
            machine = try Machine(configuration: configuration)
        } catch let error as ConfigurationError {
            StandardError.write("swiftlet boot: error: \(error)\n")
            throw ExitCode(2)
        } catch {
            StandardError.write("swiftlet boot: error: \(error)\n")
            throw ExitCode(1)
        }

        let console = HostConsole()
        let exit: MachineExit
        do {
            try console.forwardInput(to: machine)
            exit = try machine.run(stopSignals: [SIGINT, SIGTERM])
        } catch {
            console.restore()
            StandardError.write("swiftlet boot: error: \(error)\n")
            throw ExitCode(1)
        }
        console.restore()
        switch exit {
        case .fault(let text):
            StandardError.write("swiftlet boot: guest failed: \(text)\n")
        case .signal:
            StandardError.write("swiftlet boot: \(exit)\n")
        case .powerOff, .reset:
            if bootTimer { StandardError.write("swiftlet boot: \(exit)\n") }
        }
        if exit.exitStatus != 0 { throw ExitCode(exit.exitStatus) }
    }
}
