#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM
import Virtio
import X86
import VMLaunch

extension GuestMemory: GuestRAM {
    public func hostBytes(at address: UInt64, length: UInt64) -> UnsafeMutableRawBufferPointer? {
        try? buffer(at: address, length: length)
    }
}

extension MMIOTransport: BusDevice {}

/// A disk given with `--disk PATH[,ro]`.
public struct DiskOption: Equatable, Sendable {
    public var path: String
    public var readOnly: Bool

    public init(path: String, readOnly: Bool = false) {
        self.path = path
        self.readOnly = readOnly
    }

    /// Parses `PATH[,ro]`.
    public init(parsing text: String) throws(ConfigurationError) {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let path = parts.first, !path.isEmpty else { throw ConfigurationError("--disk needs a PATH, got \"\(text)\"") }
        parts.removeFirst()
        guard parts.allSatisfy({ $0 == "ro" }) else {
            throw ConfigurationError("--disk accepts PATH or PATH,ro, got \"\(text)\"")
        }
        self.init(path: path, readOnly: !parts.isEmpty)
    }
}

/// A network interface given with `--net tap=NAME[,mac=MAC]`.
public struct NetworkOption: Equatable, Sendable {
    /// A locally administered unicast MAC, used when none is given.
    public static let defaultMAC: [UInt8] = [0x06, 0x00, 0xAC, 0x10, 0x00, 0x02]
    public var tap: String
    public var mac: [UInt8]

    /// Parses `tap=NAME[,mac=AA:BB:CC:DD:EE:FF]`.
    public init(parsing text: String) throws(ConfigurationError) {
        var tap: String?
        var mac = Self.defaultMAC
        for part in text.split(separator: ",") {
            if part.hasPrefix("tap=") {
                tap = String(part.dropFirst(4))
            } else if part.hasPrefix("mac=") {
                let bytes = part.dropFirst(4).split(separator: ":").compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
                guard bytes.count == 6 else { throw ConfigurationError("--net mac= must look like 06:00:ac:10:00:02, got \"\(part.dropFirst(4))\"") }
                mac = bytes
            } else {
                throw ConfigurationError("--net accepts tap=NAME[,mac=MAC], got \"\(text)\"")
            }
        }
        guard let tap, !tap.isEmpty, tap.utf8.count < 16 else {
            throw ConfigurationError("--net needs tap=NAME (at most 15 bytes), got \"\(text)\"")
        }
        self.tap = tap
        self.mac = mac
    }
}

/// A vsock device given with `--vsock cid=N,uds=PATH` (Firecracker-style host side:
/// see ``VsockDevice``).
public struct VsockOption: Equatable, Sendable {
    public var guestCID: UInt32
    public var udsPath: String

    public init(guestCID: UInt32, udsPath: String) {
        self.guestCID = guestCID
        self.udsPath = udsPath
    }

    /// Parses `cid=N,uds=PATH` (in either order).
    public init(parsing text: String) throws(ConfigurationError) {
        var cid: UInt32?
        var path: String?
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            if part.hasPrefix("cid=") {
                guard let value = UInt32(part.dropFirst(4)), value >= 3, value != UInt32.max else {
                    throw ConfigurationError("--vsock cid= must be a number from 3 to \(UInt32.max - 1), got \"\(part.dropFirst(4))\"")
                }
                cid = value
            } else if part.hasPrefix("uds=") {
                path = String(part.dropFirst(4))
            } else {
                throw ConfigurationError("--vsock accepts cid=N,uds=PATH, got \"\(text)\"")
            }
        }
        guard let cid, let path, !path.isEmpty else {
            throw ConfigurationError("--vsock needs both cid=N and uds=PATH, got \"\(text)\"")
        }
        self.init(guestCID: cid, udsPath: path)
    }
}

/// The machine's virtio-mmio devices (virtio 1.2 §4.2): where each sits in the MMIO
/// hole, its GSI, its ACPI `LNRO0005` object and `virtio_mmio.device=` entry, and the
/// KVM wiring — an ioeventfd per queue on QueueNotify and an irqfd per device.
struct VirtioDeviceSet: Sendable {
    static let firstBase: UInt64 = 0xD000_0000
    /// IOAPIC pins 16–23, free of every legacy ISA line.
    static let firstGSI: UInt32 = 16
    static let maximumCount = 8

    let transports: [MMIOTransport]
    let interruptFDs: [Int32]

    static func base(of index: Int) -> UInt64 { firstBase + UInt64(index) * MMIOTransport.windowSize }
    static func gsi(of index: Int) -> UInt32 { firstGSI + UInt32(index) }

    /// The devices a configuration asks for: its disks in order, its network
    /// interfaces, the console if it is virtio, the vsock device if any, then the
    /// entropy device.
    static func devices(for configuration: MachineConfiguration) throws(ConfigurationError) -> [any VirtioDevice] {
        let count = configuration.disks.count + configuration.networks.count + (configuration.console == .virtio ? 1 : 0)
            + (configuration.vsock == nil ? 0 : 1) + 1
        guard count <= maximumCount else {
            throw ConfigurationError("at most \(maximumCount) virtio devices fit, \(count) requested")
        }
        var devices: [any VirtioDevice] = []
        do throws(VirtioError) {
            for (index, disk) in configuration.disks.enumerated() {
                devices.append(try BlockDevice(path: disk.path, readOnly: disk.readOnly, identifier: "swiftlet-disk-\(index)"))
            }
            for network in configuration.networks {
                devices.append(try NetworkDevice(tapName: network.tap, mac: network.mac))
            }
            if configuration.console == .virtio {
                let sink = configuration.consoleOutput
                devices.append(ConsoleDevice(output: { bytes in bytes.forEach(sink) }))
            }
            if let vsock = configuration.vsock {
                devices.append(try VsockDevice(guestCID: vsock.guestCID, udsPath: vsock.udsPath))
            }
            devices.append(EntropyDevice())
        } catch {
            throw ConfigurationError("\(error)")
        }
        return devices
    }

    static func acpiDevices(count: Int) -> [ACPIDevice] {
        (0..<count).map {
            .virtioMMIO(index: $0, base: UInt32(base(of: $0)), length: UInt32(MMIOTransport.windowSize), gsi: gsi(of: $0))
        }
    }

    /// `commandLine` with a `virtio_mmio.device=` entry per device, placed before any
    /// `--` so they stay kernel parameters rather than init arguments.
    static func commandLine(_ commandLine: String, deviceCount: Int) -> String {
        guard deviceCount > 0 else { return commandLine }
        let entries = (0..<deviceCount).map { "virtio_mmio.device=4K@0x\(String(base(of: $0), radix: 16)):\(gsi(of: $0))" }
        var words = commandLine.split(separator: " ").map(String.init)
        words.insert(contentsOf: entries, at: words.firstIndex(of: "--") ?? words.count)
        return words.joined(separator: " ")
    }

    /// Creates the transports and registers their eventfds with KVM.
    init(devices: [any VirtioDevice], memory: GuestMemory, vm: VirtualMachine) throws {
        var transports: [MMIOTransport] = []
        var interruptFDs: [Int32] = []
        defer { if transports.count != devices.count { interruptFDs.forEach { Glibc.close($0) } } }
        for (index, device) in devices.enumerated() {
            let fd = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_CLOEXEC)) }
            interruptFDs.append(fd)
            try vm.registerInterruptEventFD(fd, gsi: Self.gsi(of: index))
            let transport = try MMIOTransport(device: device, memory: memory, interrupt: {
                var one: UInt64 = 1
                _ = write(fd, &one, 8)
            })
            for (queue, queueFD) in transport.queueEventFDs.enumerated() {
                try vm.registerIOEventFD(queueFD, address: Self.base(of: index) + MMIOTransport.queueNotifyOffset,
                                         length: 4, space: .memory, value: UInt64(queue))
            }
            transports.append(transport)
        }
        self.transports = transports
        self.interruptFDs = interruptFDs
    }

    var busMappings: [IOBus.Mapping] {
        transports.enumerated().map { .init(base: Self.base(of: $0.offset), length: MMIOTransport.windowSize, device: $0.element) }
    }

    /// Hands host terminal input to the virtio console; false when there is none.
    func receiveConsoleInput(_ bytes: [UInt8]) -> Bool {
        guard let transport = transports.first(where: { $0.device is ConsoleDevice }),
              let console = transport.device as? ConsoleDevice else { return false }
        console.receive(bytes)
        transport.wake(queue: ConsoleDevice.receiveQueue)
        return true
    }

    func close() { interruptFDs.forEach { Glibc.close($0) } }
}
