import Units
import VMLaunch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import X86

/// Everything needed to build one microVM: what to boot, how big, and where its
/// console and diagnostics go.
public struct MachineConfiguration: Sendable {
    public static let defaultMemory = UInt64(BootArguments.defaultMemoryMiB) << 20
    public static let minimumMemory = UInt64(BootArguments.minimumMemoryMiB) << 20
    public static let maximumCPUs = BootArguments.maximumCPUs

    /// Where the interactive console (host terminal) is connected in the guest.
    public enum Console: String, Sendable {
        /// COM1, the 8250 UART (`ttyS0`).
        case serial
        /// A virtio-console device (`hvc0`); COM1 stays present for early output.
        case virtio
    }

    public var kernelPath: String
    public var initrdPath: String?
    public var commandLine: String
    public var cpuCount: Int
    public var memorySize: UInt64
    /// Log boot-timer port writes to stderr.
    public var bootTimerLogging: Bool
    /// CLOCK_MONOTONIC nanoseconds the boot-timer measures from (the VMM's start).
    public var startNanoseconds: UInt64
    /// virtio-blk disks, in the order the guest sees them (vda, vdb, ...).
    public var disks: [DiskOption]
    public var console: Console
    /// virtio-net interfaces on host TAP devices (eth0, eth1, ...).
    public var networks: [NetworkOption] = []
    /// The virtio-vsock device, if any.
    public var vsock: VsockOption?
    /// Receives each byte the guest sends to COM1.
    public var consoleOutput: @Sendable (UInt8) -> Void

    public init(kernelPath: String, initrdPath: String? = nil, commandLine: String = KernelCommandLine().description,
                cpuCount: Int = 1, memorySize: UInt64 = MachineConfiguration.defaultMemory,
                bootTimerLogging: Bool = false, startNanoseconds: UInt64 = BootTimerPort.monotonicNanoseconds(),
                disks: [DiskOption] = [], console: Console = .serial, consoleOutput: @escaping @Sendable (UInt8) -> Void = MachineConfiguration.writeToStandardOutput) {
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.commandLine = commandLine
        self.cpuCount = cpuCount
        self.memorySize = memorySize
        self.bootTimerLogging = bootTimerLogging
        self.startNanoseconds = startNanoseconds
        self.disks = disks
        self.console = console
        self.consoleOutput = consoleOutput
    }

    /// Checks the values that do not need the files.
    public func validate() throws(ConfigurationError) {
        guard (1...Self.maximumCPUs).contains(cpuCount) else {
            throw ConfigurationError("--cpus must be between 1 and \(Self.maximumCPUs), got \(cpuCount)")
        }
        guard memorySize >= Self.minimumMemory else {
            throw ConfigurationError("--memory must be at least \(MemorySize(bytes: Self.minimumMemory)), got \(MemorySize(bytes: memorySize))")
        }
        guard memorySize % 4096 == 0 else {
            throw ConfigurationError("--memory must be a whole number of 4 KiB pages")
        }
    }

    /// Console sink that writes each byte to file descriptor 1.
    public static let writeToStandardOutput: @Sendable (UInt8) -> Void = { byte in
        var value = byte
        while Glibc.write(1, &value, 1) < 0 && errno == EINTR {}
    }
}

extension MachineConfiguration {
    /// Builds a configuration from `swiftlet boot`'s option strings, rejecting bad
    /// values with a one-line message.
    public static func fromOptions(kernel: String?, initrd: String?, commandLine: String?, cpus: String,
                                   memory: String, bootTimerLogging: Bool, startNanoseconds: UInt64,
                                   disks: [String] = [], networks: [String] = [],
                                   console: String = "serial", vsock: String? = nil) throws(ConfigurationError) -> MachineConfiguration {
        guard let kernel, !kernel.isEmpty else { throw ConfigurationError("--kernel PATH is required") }
        guard let count = try? CPUCount.parse(cpus), count.rounded() == count, count <= Double(maximumCPUs) else {
            throw ConfigurationError("--cpus must be a whole number of vCPUs from 1 to \(maximumCPUs), got \"\(cpus)\"")
        }
        let cpuCount = Int(count)
        let size: Int64
        do {
            size = try GuestMemorySize.parse(memory)
        } catch {
            throw ConfigurationError("--memory: \(error)")
        }
        guard let consoleKind = Console(rawValue: console) else {
            throw ConfigurationError("--console must be serial or virtio, got \"\(console)\"")
        }
        var diskOptions: [DiskOption] = []
        for disk in disks { diskOptions.append(try DiskOption(parsing: disk)) }
        var networkOptions: [NetworkOption] = []
        for network in networks { networkOptions.append(try NetworkOption(parsing: network)) }
        var configuration = MachineConfiguration(kernelPath: kernel, initrdPath: initrd,
                                                 commandLine: commandLine ?? BootArguments.defaultCommandLine(console: console),
                                                 cpuCount: cpuCount,
                                                 memorySize: UInt64(size), bootTimerLogging: bootTimerLogging,
                                                 startNanoseconds: startNanoseconds, disks: diskOptions,
                                                 console: consoleKind)
        configuration.networks = networkOptions
        if let vsock { configuration.vsock = try VsockOption(parsing: vsock) }
        try configuration.validate()
        return configuration
    }
}

extension BootArguments {
    /// The machine these arguments describe (validated: files exist, sizes fit).
    public func configuration(startNanoseconds: UInt64) throws(ConfigurationError) -> MachineConfiguration {
        try MachineConfiguration.fromOptions(
            kernel: kernel, initrd: initrd, commandLine: commandLine, cpus: cpus, memory: memory,
            bootTimerLogging: bootTimer, startNanoseconds: startNanoseconds, disks: disks, networks: networks,
            console: console, vsock: vsock)
    }
}
