#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// One KVM virtual machine (a VM file descriptor): guest memory slots, the in-kernel
/// interrupt controllers and PIT, interrupt/notification file descriptors, and vCPU
/// creation (Documentation/virt/kvm/api.rst, section 4 "vm ioctls").
public final class VirtualMachine: Sendable {
    public let fd: Int32
    /// Keeps `/dev/kvm` open (and its mmap size known) for as long as the VM lives.
    public let system: KVMSystem

    init(fd: Int32, system: KVMSystem) {
        self.fd = fd
        self.system = system
    }

    deinit { close(fd) }

    /// `KVM_SET_USER_MEMORY_REGION`: maps `size` bytes of host memory at `hostAddress`
    /// into guest-physical space at `guestAddress` in memory slot `slot`.
    public func setMemoryRegion(slot: UInt32, guestAddress: UInt64, size: UInt64,
                                hostAddress: UnsafeMutableRawPointer) throws(KVMError) {
        var region = kvm_userspace_memory_region(slot: slot, flags: 0, guest_phys_addr: guestAddress,
                                                 memory_size: size, userspace_addr: UInt64(UInt(bitPattern: hostAddress)))
        try Syscall.ioctl(fd, CL_KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION", &region)
    }

    /// `KVM_SET_TSS_ADDR`: three pages of guest-physical space KVM may use on Intel hosts.
    public func setTSSAddress(_ address: UInt64) throws(KVMError) {
        try Syscall.ioctl(fd, CL_KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR", value: UInt(address))
    }

    /// `KVM_SET_IDENTITY_MAP_ADDR`: one page for the real-mode identity page table.
    public func setIdentityMapAddress(_ address: UInt64) throws(KVMError) {
        var value = address
        try Syscall.ioctl(fd, CL_KVM_SET_IDENTITY_MAP_ADDR, "KVM_SET_IDENTITY_MAP_ADDR", &value)
    }

    /// `KVM_CREATE_IRQCHIP`: in-kernel PIC pair, IOAPIC and per-vCPU local APICs.
    public func createInterruptController() throws(KVMError) {
        try Syscall.ioctl(fd, CL_KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP", value: 0)
    }

    /// `KVM_CREATE_PIT2` with a dummy PC speaker port (0x61), as Linux probes it.
    public func createProgrammableIntervalTimer() throws(KVMError) {
        var config = kvm_pit_config()
        config.flags = UInt32(KVM_PIT_SPEAKER_DUMMY)
        try Syscall.ioctl(fd, CL_KVM_CREATE_PIT2, "KVM_CREATE_PIT2", &config)
    }

    /// `KVM_IRQ_LINE`: drives the level of one interrupt line (GSI) of the irqchip.
    public func setInterruptLine(_ gsi: UInt32, high: Bool) throws(KVMError) {
        var level = kvm_irq_level()
        level.irq = gsi
        level.level = high ? 1 : 0
        try Syscall.ioctl(fd, CL_KVM_IRQ_LINE, "KVM_IRQ_LINE", &level)
    }

    /// Raises then lowers a line: one edge-triggered interrupt.
    public func pulseInterruptLine(_ gsi: UInt32) throws(KVMError) {
        try setInterruptLine(gsi, high: true)
        try setInterruptLine(gsi, high: false)
    }

    /// `KVM_IRQFD`: a write to `eventFD` injects an interrupt on `gsi`.
    public func registerInterruptEventFD(_ eventFD: Int32, gsi: UInt32) throws(KVMError) {
        var request = kvm_irqfd()
        request.fd = UInt32(bitPattern: eventFD)
        request.gsi = gsi
        try Syscall.ioctl(fd, CL_KVM_IRQFD, "KVM_IRQFD", &request)
    }

    /// Where an ioeventfd listens: a port (PIO) or a guest-physical MMIO address.
    public enum NotifyAddressSpace: Sendable { case port, memory }

    /// `KVM_IOEVENTFD`: a guest write of `length` bytes to `address` signals `eventFD`
    /// in the kernel without a VM exit; `value`, when given, must match the data.
    public func registerIOEventFD(_ eventFD: Int32, address: UInt64, length: UInt32,
                                  space: NotifyAddressSpace, value: UInt64? = nil) throws(KVMError) {
        var request = kvm_ioeventfd()
        request.addr = address
        request.len = length
        request.fd = eventFD
        var flags: UInt32 = 0
        if space == .port { flags |= UInt32(1 << kvm_ioeventfd_flag_nr_pio) }
        if let value {
            request.datamatch = value
            flags |= UInt32(1 << kvm_ioeventfd_flag_nr_datamatch)
        }
        request.flags = flags
        try Syscall.ioctl(fd, CL_KVM_IOEVENTFD, "KVM_IOEVENTFD", &request)
    }

    /// One GSI routing entry: a GSI delivered to a pin of one in-kernel irqchip.
    public struct InterruptRoute: Sendable, Equatable {
        public enum Chip: UInt32, Sendable { case picMaster = 0, picSlave = 1, ioapic = 2 }
        public var gsi: UInt32
        public var chip: Chip
        public var pin: UInt32
        public init(gsi: UInt32, chip: Chip, pin: UInt32) {
            self.gsi = gsi
            self.chip = chip
            self.pin = pin
        }
    }

    /// `KVM_SET_GSI_ROUTING`: replaces the whole routing table.
    public func setInterruptRouting(_ routes: [InterruptRoute]) throws(KVMError) {
        let header = MemoryLayout<kvm_irq_routing>.size
        let stride = MemoryLayout<kvm_irq_routing_entry>.stride
        let size = header + routes.count * stride
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        buffer.assumingMemoryBound(to: kvm_irq_routing.self).pointee.nr = UInt32(routes.count)
        for (i, route) in routes.enumerated() {
            var entry = kvm_irq_routing_entry()
            entry.gsi = route.gsi
            entry.type = UInt32(KVM_IRQ_ROUTING_IRQCHIP)
            entry.u.irqchip.irqchip = route.chip.rawValue
            entry.u.irqchip.pin = route.pin
            (buffer + header + i * stride).storeBytes(of: entry, as: kvm_irq_routing_entry.self)
        }
        try Syscall.ioctl(fd, CL_KVM_SET_GSI_ROUTING, "KVM_SET_GSI_ROUTING", buffer)
    }

    /// `KVM_CREATE_VCPU` plus the `kvm_run` mapping.
    public func createVirtualCPU(id: UInt32) throws(KVMError) -> VirtualCPU {
        let vcpufd = try Syscall.ioctl(fd, CL_KVM_CREATE_VCPU, "KVM_CREATE_VCPU(\(id))", value: UInt(id))
        let size = system.vcpuMmapSize
        guard let run = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpufd, 0), run != MAP_FAILED else {
            let err = errno
            close(vcpufd)
            throw KVMError(call: "mmap(kvm_run of vCPU \(id))", code: err)
        }
        return VirtualCPU(id: id, fd: vcpufd, run: run, runSize: size)
    }
}
