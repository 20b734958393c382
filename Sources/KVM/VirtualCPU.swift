#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// One virtual CPU: its file descriptor, register state and the shared `kvm_run`
/// page through which exits are reported (Documentation/virt/kvm/api.rst, section 4
/// "vcpu ioctls" and 5 "The kvm_run structure").
///
/// A vCPU is driven by exactly one thread (the one calling ``run()``). The only
/// cross-thread access is ``requestImmediateExit()``, which writes the
/// `immediate_exit` byte the kernel documents for exactly this purpose; that is why
/// this type is `@unchecked Sendable` rather than holding a lock.
public final class VirtualCPU: @unchecked Sendable {
    public let id: UInt32
    public let fd: Int32
    private let shared: UnsafeMutablePointer<kvm_run>
    private let runSize: Int

    init(id: UInt32, fd: Int32, run: UnsafeMutableRawPointer, runSize: Int) {
        self.id = id
        self.fd = fd
        self.shared = run.bindMemory(to: kvm_run.self, capacity: 1)
        self.runSize = runSize
    }

    deinit {
        munmap(UnsafeMutableRawPointer(shared), runSize)
        close(fd)
    }

    // MARK: register state

    public func registers() throws(KVMError) -> kvm_regs {
        var regs = kvm_regs()
        try Syscall.ioctl(fd, CL_KVM_GET_REGS, "KVM_GET_REGS", &regs)
        return regs
    }

    public func setRegisters(_ regs: kvm_regs) throws(KVMError) {
        var copy = regs
        try Syscall.ioctl(fd, CL_KVM_SET_REGS, "KVM_SET_REGS", &copy)
    }

    public func specialRegisters() throws(KVMError) -> kvm_sregs {
        var sregs = kvm_sregs()
        try Syscall.ioctl(fd, CL_KVM_GET_SREGS, "KVM_GET_SREGS", &sregs)
        return sregs
    }

    public func setSpecialRegisters(_ sregs: kvm_sregs) throws(KVMError) {
        var copy = sregs
        try Syscall.ioctl(fd, CL_KVM_SET_SREGS, "KVM_SET_SREGS", &copy)
    }

    public func floatingPointState() throws(KVMError) -> kvm_fpu {
        var fpu = kvm_fpu()
        try Syscall.ioctl(fd, CL_KVM_GET_FPU, "KVM_GET_FPU", &fpu)
        return fpu
    }

    public func setFloatingPointState(_ fpu: kvm_fpu) throws(KVMError) {
        var copy = fpu
        try Syscall.ioctl(fd, CL_KVM_SET_FPU, "KVM_SET_FPU", &copy)
    }

    /// `KVM_SET_MSRS`; fails naming the first MSR KVM refused.
    public func setModelSpecificRegisters(_ msrs: [(index: UInt32, value: UInt64)]) throws(KVMError) {
        let buffer = MSRBuffer(msrs.map { kvm_msr_entry(index: $0.index, reserved: 0, data: $0.value) })
        let written = try Syscall.ioctl(fd, CL_KVM_SET_MSRS, "KVM_SET_MSRS", buffer.raw)
        if Int(written) < msrs.count {
            let refused = msrs[Int(written)].index
            throw KVMError(call: "ioctl(KVM_SET_MSRS)", code: 0,
                           detail: "KVM refused MSR 0x\(String(refused, radix: 16)) (set \(written) of \(msrs.count))")
        }
    }

    /// `KVM_GET_MSRS` for the given indices; MSRs KVM cannot read are left out.
    public func modelSpecificRegisters(_ indices: [UInt32]) throws(KVMError) -> [(index: UInt32, value: UInt64)] {
        let buffer = MSRBuffer(indices.map { kvm_msr_entry(index: $0, reserved: 0, data: 0) })
        let read = try Syscall.ioctl(fd, CL_KVM_GET_MSRS, "KVM_GET_MSRS", buffer.raw)
        return buffer.entries.prefix(Int(read)).map { ($0.index, $0.data) }
    }

    /// `KVM_GET_LAPIC`: the 1 KiB local APIC register page.
    public func localAPIC() throws(KVMError) -> kvm_lapic_state {
        var state = kvm_lapic_state()
        try Syscall.ioctl(fd, CL_KVM_GET_LAPIC, "KVM_GET_LAPIC", &state)
        return state
    }

    public func setLocalAPIC(_ state: kvm_lapic_state) throws(KVMError) {
        var copy = state
        try Syscall.ioctl(fd, CL_KVM_SET_LAPIC, "KVM_SET_LAPIC", &copy)
    }

    /// `KVM_SET_CPUID2`: what CPUID returns inside the guest.
    public func setCPUID(_ entries: [kvm_cpuid_entry2]) throws(KVMError) {
        let buffer = CPUIDBuffer(entries: entries)
        try Syscall.ioctl(fd, CL_KVM_SET_CPUID2, "KVM_SET_CPUID2", buffer.raw)
    }

    /// `KVM_GET_MP_STATE`: runnable, halted, or waiting for INIT/SIPI.
    public func multiprocessingState() throws(KVMError) -> UInt32 {
        var state = kvm_mp_state()
        try Syscall.ioctl(fd, CL_KVM_GET_MP_STATE, "KVM_GET_MP_STATE", &state)
        return state.mp_state
    }

    // MARK: running

    /// `KVM_RUN` until the next exit that needs userspace, decoded.
    ///
    /// A signal that interrupts the call (see ``requestImmediateExit()``) yields
    /// ``VCPUExit/interrupted`` instead of an error, and so does `EAGAIN`, which KVM
    /// returns when an application processor waiting for INIT/SIPI has just received
    /// them and must simply be run again.
    public func run() throws(KVMError) -> VCPUExit {
        do {
            try Syscall.ioctl(fd, CL_KVM_RUN, "KVM_RUN", nil, retryingInterrupts: false)
        } catch where error.code == EINTR || error.code == EAGAIN {
            shared.pointee.immediate_exit = 0
            return .interrupted
        }
        return decodeExit()
    }

    /// Makes the current or next ``run()`` return ``VCPUExit/interrupted`` promptly.
    /// Pair with a signal to the vCPU's thread to kick a `KVM_RUN` already in progress.
    public func requestImmediateExit() {
        withUnsafeMutablePointer(to: &shared.pointee.immediate_exit) { pointer in
            UnsafeMutableRawPointer(pointer).storeBytes(of: 1, as: UInt8.self)
        }
    }

    /// Offset of `kvm_run.mmio.data`: the exit union starts at byte 32 of `kvm_run`
    /// (after the fixed header) and `data` follows the 8-byte `phys_addr`.
    static let mmioDataOffset = 32 + 8

    private func decodeExit() -> VCPUExit {
        let r = shared.pointee
        switch Int32(bitPattern: r.exit_reason) {
        case KVM_EXIT_IO:
            let io = r.io
            let size = Int(io.size)
            let count = Int(io.count)
            let data = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(shared) + Int(io.data_offset),
                                                     count: size * count)
            if io.direction == UInt8(KVM_EXIT_IO_OUT) {
                return .portOut(port: io.port, size: size, data: UnsafeRawBufferPointer(data))
            }
            return .portIn(port: io.port, size: size, data: data)
        case KVM_EXIT_MMIO:
            let length = min(Int(r.mmio.len), 8)
            // Point into kvm_run itself: `&shared.pointee.mmio.data` would be a temporary
            // copy (the union member is a computed property in Swift), so reads would
            // never reach the guest and writes would be stale.
            let data = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(shared) + Self.mmioDataOffset,
                                                     count: length)
            if r.mmio.is_write != 0 {
                return .memoryWrite(address: r.mmio.phys_addr, data: UnsafeRawBufferPointer(data))
            }
            return .memoryRead(address: r.mmio.phys_addr, data: data)
        case KVM_EXIT_HLT:
            return .halt
        case KVM_EXIT_SHUTDOWN:
            return .shutdown
        case KVM_EXIT_SYSTEM_EVENT:
            return .systemEvent(type: r.system_event.type)
        case KVM_EXIT_INTERNAL_ERROR:
            return .internalError(suberror: r.internal.suberror)
        case KVM_EXIT_FAIL_ENTRY:
            return .failedEntry(reason: r.fail_entry.hardware_entry_failure_reason)
        case KVM_EXIT_INTR:
            return .interrupted
        default:
            return .unknown(reason: r.exit_reason)
        }
    }
}

/// Why `KVM_RUN` returned (api.rst section 5, `exit_reason`). Buffers point into the
/// vCPU's `kvm_run` page and are valid only until the next ``VirtualCPU/run()``.
public enum VCPUExit {
    /// `KVM_EXIT_IO` OUT: `data` holds `count` items of `size` bytes.
    case portOut(port: UInt16, size: Int, data: UnsafeRawBufferPointer)
    /// `KVM_EXIT_IO` IN: fill `data` (`count` items of `size` bytes).
    case portIn(port: UInt16, size: Int, data: UnsafeMutableRawBufferPointer)
    case memoryWrite(address: UInt64, data: UnsafeRawBufferPointer)
    /// Fill `data` with the value read.
    case memoryRead(address: UInt64, data: UnsafeMutableRawBufferPointer)
    case halt
    /// Triple fault (or another shutdown condition).
    case shutdown
    case systemEvent(type: UInt32)
    case internalError(suberror: UInt32)
    case failedEntry(reason: UInt64)
    /// A signal or ``VirtualCPU/requestImmediateExit()`` ended the run.
    case interrupted
    case unknown(reason: UInt32)
}

/// A heap buffer laid out as `struct kvm_msrs` followed by its entries.
final class MSRBuffer {
    let raw: UnsafeMutableRawPointer
    let count: Int
    private static let headerSize = MemoryLayout<kvm_msrs>.size
    private static let entrySize = MemoryLayout<kvm_msr_entry>.stride

    init(_ entries: [kvm_msr_entry]) {
        count = entries.count
        let size = Self.headerSize + count * Self.entrySize
        raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        raw.assumingMemoryBound(to: kvm_msrs.self).pointee.nmsrs = UInt32(count)
        for (i, entry) in entries.enumerated() {
            (raw + Self.headerSize + i * Self.entrySize).storeBytes(of: entry, as: kvm_msr_entry.self)
        }
    }

    var entries: [kvm_msr_entry] {
        (0..<count).map { (raw + Self.headerSize + $0 * Self.entrySize).load(as: kvm_msr_entry.self) }
    }

    deinit { raw.deallocate() }
}
