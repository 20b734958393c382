#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM

/// The threads of a running ``Machine``, each of which `swiftlet-vmm` confines with its
/// own seccomp filter (seccomp(2): a filter applies to the thread that loads it and to
/// threads it creates later).
public enum MachineThreadKind: String, Sendable, CaseIterable {
    /// The thread that called ``Machine/run(stopSignals:confine:)``: waits for the exit.
    case main
    /// A vCPU's `KVM_RUN` loop; also serves the guest's port and MMIO accesses.
    case vcpu
    /// The virtio device thread (epoll over queues, TAP, sockets, disks).
    case device
    /// ``HostConsole``'s stdin reader.
    case consoleInput
}

/// Confines the calling thread (loads its seccomp filter); called once in each thread
/// after its set-up and before the guest runs. Throws when the filter cannot be loaded.
public typealias ThreadConfinement = @Sendable (MachineThreadKind) throws -> Void

/// Holds the vCPU threads back until every thread is confined: each vCPU thread loads its
/// filter and waits; the main thread loads its own last (threads it created do not
/// inherit it) and then opens the gate. An `EFD_SEMAPHORE` eventfd, one count per vCPU.
struct StartGate: Sendable {
    let fd: Int32

    init() throws(KVMError) {
        fd = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_CLOEXEC | EFD_SEMAPHORE)) }
    }

    /// Blocks until ``open(for:)``.
    func wait() {
        var value: UInt64 = 0
        while read(fd, &value, 8) < 0 && errno == EINTR {}
    }

    /// Lets `threads` waiters through.
    func open(for threads: Int) {
        var count = UInt64(threads)
        while write(fd, &count, 8) < 0 && errno == EINTR {}
    }

    func close() {
        Glibc.close(fd)
    }
}
