#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import HostSystem
import KVM

/// A vCPU's or the console reader's thread: a ``PosixThread`` in which ``wakeupSignal``
/// (which kicks it out of `KVM_RUN`) is unblocked.
struct HostThread: Sendable {
    /// The signal used to kick a thread out of a blocking call (`KVM_RUN`).
    static let wakeupSignal = SIGUSR1

    private let thread: PosixThread

    var handle: pthread_t { thread.handle }

    /// Starts `body` on a new thread.
    init(_ body: @escaping @Sendable () -> Void) throws(KVMError) {
        do {
            thread = try PosixThread(unblocking: [Self.wakeupSignal], body)
        } catch {
            throw KVMError(call: "pthread_create", code: error.errno?.rawValue ?? EAGAIN)
        }
    }

    /// Interrupts a blocking system call in the thread.
    func wake() {
        thread.signal(Self.wakeupSignal)
    }

    func join() {
        thread.join()
    }

    /// Makes ``wakeupSignal`` interrupt system calls instead of killing the process.
    static func installWakeupHandler() throws(KVMError) {
        try Syscall.call("sigaction(SIGUSR1)") { cl_install_wakeup_signal_handler(wakeupSignal) }
    }
}

/// The run loop of one vCPU: `KVM_RUN`, dispatch port and MMIO exits to the buses,
/// and turn guest-ending exits into a ``MachineExit`` on the latch.
struct VCPULoop: Sendable {
    let vcpu: VirtualCPU
    let ports: IOBus
    let mmio: IOBus
    let latch: ExitLatch

    func run() {
        while latch.exit == nil {
            let exit: VCPUExit
            do {
                exit = try vcpu.run()
            } catch {
                fault("KVM_RUN failed on vCPU \(vcpu.id): \(error)")
                return
            }
            switch exit {
            case .portOut(let port, let size, let data):
                var offset = 0
                while offset + size <= data.count {
                    ports.write(address: UInt64(port), data: UnsafeRawBufferPointer(rebasing: data[offset..<offset + size]))
                    offset += size
                }
            case .portIn(let port, let size, let data):
                var offset = 0
                while offset + size <= data.count {
                    ports.read(address: UInt64(port), data: UnsafeMutableRawBufferPointer(rebasing: data[offset..<offset + size]))
                    offset += size
                }
            case .memoryWrite(let address, let data):
                mmio.write(address: address, data: data)
            case .memoryRead(let address, let data):
                mmio.read(address: address, data: data)
            case .halt, .interrupted:
                continue
            case .shutdown:
                fault("vCPU \(vcpu.id): triple fault (KVM_EXIT_SHUTDOWN)")
            case .systemEvent(let type):
                switch Int32(type) {
                case KVM_SYSTEM_EVENT_SHUTDOWN: latch.record(.powerOff)
                case KVM_SYSTEM_EVENT_RESET: latch.record(.reset(source: "KVM system event"))
                default: fault("vCPU \(vcpu.id): system event \(type)")
                }
            case .internalError(let suberror):
                let kind = Int32(suberror) == KVM_INTERNAL_ERROR_EMULATION ? "instruction emulation failed" : "internal error"
                fault("vCPU \(vcpu.id): KVM \(kind) (suberror \(suberror))")
            case .failedEntry(let reason):
                fault("vCPU \(vcpu.id): VM entry failed (hardware reason 0x\(String(reason, radix: 16)))")
            case .unknown(let reason):
                fault("vCPU \(vcpu.id): unexpected exit reason \(reason)")
            }
        }
    }

    private func fault(_ message: String) {
        latch.record(.fault(message + "\n" + RegisterDump.text(of: vcpu)))
    }
}
