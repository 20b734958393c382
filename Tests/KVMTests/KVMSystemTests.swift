#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Testing
@testable import KVM

/// Exercises the wrappers against this host's /dev/kvm (skipped, with the reason
/// printed, where there is none).
@Suite struct KVMWrapperTests {
    func system() throws -> KVMSystem? {
        let kind = HostKVM.detect()
        guard kind.runsFreestandingGuests else {
            print("SKIPPED KVM wrapper test: \(kind.summary)")
            return nil
        }
        return try KVMSystem()
    }

    @Test func opensDeviceChecksAPIVersionAndListsCPUIDOnKVM() throws {
        guard let kvm = try system() else { return }
        #expect(kvm.vcpuMmapSize >= MemoryLayout<kvm_run>.size)
        #expect(try kvm.checkExtension(KVM_CAP_USER_MEMORY) > 0)
        let cpuid = try kvm.supportedCPUID()
        #expect(cpuid.contains { $0.function == 0 })
        #expect(cpuid.contains { $0.function == 1 })
    }

    @Test func createsVMWithIrqchipEventFDsAndRoutingOnKVM() throws {
        guard let kvm = try system() else { return }
        let vm = try kvm.createVirtualMachine()
        try vm.setIdentityMapAddress(0xFFFB_C000)
        try vm.setTSSAddress(0xFFFB_D000)
        try vm.createInterruptController()
        try vm.createProgrammableIntervalTimer()
        try vm.pulseInterruptLine(4)
        let irq = eventfd(0, Int32(EFD_CLOEXEC))
        let notify = eventfd(0, Int32(EFD_CLOEXEC))
        defer { close(irq); close(notify) }
        try vm.registerInterruptEventFD(irq, gsi: 5)
        try vm.registerIOEventFD(notify, address: 0xD000_0050, length: 4, space: .memory, value: 0)
        try vm.registerIOEventFD(notify, address: 0x510, length: 2, space: .port)
        try vm.setInterruptRouting((0..<24).map { .init(gsi: $0, chip: .ioapic, pin: $0) })
        // A second irqfd on the same eventfd is refused, with the ioctl named.
        do {
            try vm.registerInterruptEventFD(irq, gsi: 5)
            Issue.record("duplicate irqfd accepted")
        } catch {
            #expect(error.call == "ioctl(KVM_IRQFD)")
            #expect(error.code == EBUSY)
            #expect(error.description.contains("errno"))
        }
    }

    @Test func vcpuRegistersRoundTripOnKVM() throws {
        guard let kvm = try system() else { return }
        let vm = try kvm.createVirtualMachine()
        try vm.createInterruptController()
        let vcpu = try vm.createVirtualCPU(id: 0)
        var regs = try vcpu.registers()
        regs.rip = 0x1234
        regs.rflags = 2
        try vcpu.setRegisters(regs)
        #expect(try vcpu.registers().rip == 0x1234)
        try vcpu.setCPUID(try kvm.supportedCPUID())
        try vcpu.setModelSpecificRegisters([(index: 0x174, value: 0x10)])
        #expect(try vcpu.modelSpecificRegisters([0x174]).first?.value == 0x10)
        let lapic = try vcpu.localAPIC()
        try vcpu.setLocalAPIC(lapic)
        var fpu = try vcpu.floatingPointState()
        fpu.fcw = 0x37F
        try vcpu.setFloatingPointState(fpu)
        #expect(try vcpu.multiprocessingState() == UInt32(KVM_MP_STATE_RUNNABLE))
    }

    @Test func syscallHelperNamesTheCallAndErrno() {
        do {
            try Syscall.call("open(/nonexistent)") { open("/nonexistent", O_RDONLY) }
            Issue.record("open succeeded")
        } catch {
            #expect(error == KVMError(call: "open(/nonexistent)", code: ENOENT))
            #expect(error.description == "open(/nonexistent) failed: No such file or directory (errno 2)")
        }
    }
}
