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

/// One microVM: a KVM VM with its RAM, in-kernel irqchip
/// and PIT, the loaded kernel, one thread per vCPU, and the legacy devices of a
/// hardware-reduced ACPI PC — COM1, the i8042 reset line, the ACPI power registers
/// and the boot-timer port — and its virtio-mmio devices, served by one device thread. Built by ``init(configuration:)``, run by ``run(stopSignals:)``.
public final class Machine: Sendable {
    public let configuration: MachineConfiguration
    public let memory: GuestMemory
    public let serial: SerialPort
    public let bootTimer: BootTimerPort
    public let entry: BootEntry
    let vm: VirtualMachine
    let vcpus: [VirtualCPU]
    let ports: IOBus
    let mmio: IOBus
    let latch: ExitLatch
    let virtio: VirtioDeviceSet

    /// Builds the VM and loads the kernel. Throws ``ConfigurationError`` for bad
    /// user input (files, sizes) and ``KVMError`` when KVM refuses something.
    public init(configuration: MachineConfiguration) throws {
        try configuration.validate()
        let kernel: [UInt8]
        do {
            kernel = try HostFile(path: configuration.kernelPath).readAll()
        } catch {
            throw ConfigurationError("kernel: \(error)")
        }
        guard ELFKernel.isELF(kernel) || SetupHeader.hasSignature(kernel) else {
            throw ConfigurationError("kernel \(configuration.kernelPath): \(BootImageError.notAKernel)")
        }
        self.configuration = configuration
        let devices = try VirtioDeviceSet.devices(for: configuration)

        let system = try KVMSystem()
        vm = try system.createVirtualMachine()
        try vm.setIdentityMapAddress(BootLayout.identityMapAddress)
        try vm.setTSSAddress(BootLayout.tssAddress)
        try vm.createInterruptController()
        try vm.createProgrammableIntervalTimer()

        memory = try GuestMemory(size: configuration.memorySize)
        for (slot, region) in memory.regions.enumerated() {
            try vm.setMemoryRegion(slot: UInt32(slot), guestAddress: region.guestAddress, size: region.size,
                                   hostAddress: memory.hostAddress(of: region))
        }

        virtio = try VirtioDeviceSet(devices: devices, memory: memory, vm: vm)
        let acpi = ACPITables(cpuCount: configuration.cpuCount,
                              devices: [.com1(gsi: SerialPort.com1Interrupt)] + VirtioDeviceSet.acpiDevices(count: devices.count))
        let commandLine = VirtioDeviceSet.commandLine(configuration.commandLine, deviceCount: devices.count)
        entry = try KernelLoader(memory: memory, acpi: acpi)
            .load(kernel: kernel, initrdPath: configuration.initrdPath, commandLine: commandLine)

        let supported = try system.supportedCPUID().map(VCPUSetup.cpuidEntry)
        let normalizer = CPUIDNormalizer(supported: supported, cpuCount: configuration.cpuCount)
        var vcpus: [VirtualCPU] = []
        for index in 0..<configuration.cpuCount {
            let vcpu = try vm.createVirtualCPU(id: UInt32(index))
            try VCPUSetup.configure(vcpu, cpuid: normalizer.entries(apicID: UInt32(index)),
                                    entry: index == 0 ? entry : nil)
            vcpus.append(vcpu)
        }
        self.vcpus = vcpus

        let latch = try ExitLatch()
        self.latch = latch
        let vm = self.vm
        serial = SerialPort(output: configuration.consoleOutput, interrupt: {
            _ = try? vm.pulseInterruptLine(SerialPort.com1Interrupt)
        })
        bootTimer = BootTimerPort(startNanoseconds: configuration.startNanoseconds, logging: configuration.bootTimerLogging)
        let keyboard = KeyboardController(requestReset: { latch.record(.reset(source: "i8042 reset line")) })
        let power = ACPIPowerDevice(powerOff: { latch.record(.powerOff) },
                                    reset: { latch.record(.reset(source: "ACPI reset register")) })
        let powerBase = UInt64(ACPIPowerPorts.sleepControl)
        guard let ports = IOBus([
            .init(base: KeyboardController.dataPort, length: KeyboardController.commandPort - KeyboardController.dataPort + 1, device: keyboard),
            .init(base: SerialPort.com1Base, length: SerialPort.registerCount, device: serial),
            .init(base: BootTimerPort.port, length: 1, device: bootTimer),
            .init(base: powerBase, length: UInt64(ACPIPowerPorts.reset) - powerBase + 1, device: power),
        ]), let mmio = IOBus(virtio.busMappings) else {
            throw ConfigurationError("internal: overlapping device ranges")
        }
        self.ports = ports
        self.mmio = mmio
    }

    deinit { virtio.close() }

    /// Host terminal input for the guest's interactive console (COM1 or `hvc0`).
    public func receiveConsoleInput(_ bytes: [UInt8]) {
        if !virtio.receiveConsoleInput(bytes) { serial.receive(bytes) }
    }

    /// Runs every vCPU on its own thread until the guest powers off or resets, a vCPU
    /// faults, or one of `stopSignals` arrives; then stops all vCPUs and returns why.
    /// Each thread calls `confine` with its kind once set up; no vCPU enters the guest
    /// before every thread (this one last) is confined. A failed confinement ends the
    /// machine with a fault naming the thread.
    public func run(stopSignals: [Int32] = [], confine: @escaping ThreadConfinement = { _ in }) throws -> MachineExit {
        try HostThread.installWakeupHandler()
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in stopSignals { sigaddset(&signals, signal) }
        var previousMask = sigset_t()
        var signalFD: Int32 = -1
        if !stopSignals.isEmpty {
            pthread_sigmask(SIG_BLOCK, &signals, &previousMask)
            signalFD = try Syscall.call("signalfd") { signalfd(-1, &signals, Int32(SFD_CLOEXEC)) }
        }
        defer {
            if signalFD >= 0 {
                close(signalFD)
                pthread_sigmask(SIG_SETMASK, &previousMask, nil)
            }
        }
        let gate = try StartGate()
        defer { gate.close() }

        let latch = self.latch
        let devices = try DeviceThread(transports: virtio.transports)
        let deviceThread = try HostThread {
            guard Self.confined(.device, by: confine, latch: latch) else { return }
            devices.run()
        }
        defer {
            devices.stop()
            deviceThread.join()
            devices.close()
        }

        var threads: [HostThread] = []
        for vcpu in vcpus {
            let loop = VCPULoop(vcpu: vcpu, ports: ports, mmio: mmio, latch: latch)
            do {
                threads.append(try HostThread {
                    guard Self.confined(.vcpu, by: confine, latch: latch) else { return }
                    gate.wait()
                    loop.run()
                })
            } catch {
                latch.record(.fault("cannot start vCPU \(vcpu.id): \(error)"))
                break
            }
        }
        _ = Self.confined(.main, by: confine, latch: latch)
        gate.open(for: threads.count)

        waitForExit(signalFD: signalFD)
        for (vcpu, thread) in zip(vcpus, threads) {
            vcpu.requestImmediateExit()
            thread.wake()
        }
        for thread in threads { thread.join() }
        return latch.exit ?? .fault("machine stopped without a recorded exit")
    }

    /// Runs `confine` for this thread; a failure is the machine's fault.
    private static func confined(_ kind: MachineThreadKind, by confine: ThreadConfinement, latch: ExitLatch) -> Bool {
        do {
            try confine(kind)
            return true
        } catch {
            latch.record(.fault("cannot confine the \(kind.rawValue) thread: \(error)"))
            return false
        }
    }

    private func waitForExit(signalFD: Int32) {
        var fds = [pollfd(fd: latch.eventFD, events: Int16(POLLIN), revents: 0)]
        if signalFD >= 0 { fds.append(pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)) }
        while latch.exit == nil {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 { continue }
            if fds.count > 1, fds[1].revents & Int16(POLLIN) != 0 {
                var info = signalfd_siginfo()
                if read(signalFD, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
                    latch.record(.signal(Int32(info.ssi_signo)))
                }
            }
        }
    }
}
