#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM

/// A POSIX thread running one blocking loop (a vCPU's `KVM_RUN` loop, the console
/// reader), kept off the Swift concurrency pool as the house rules require.
struct HostThread: Sendable {
    /// The signal used to kick a thread out of a blocking call (`KVM_RUN`).
    static let wakeupSignal = SIGUSR1

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    let handle: pthread_t

    /// Starts `body` on a new thread. The thread inherits its creator's signal mask
    /// (which blocks everything when the creator is a dispatch worker), so it
    /// unblocks ``wakeupSignal`` first.
    init(_ body: @escaping @Sendable () -> Void) throws(KVMError) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            var wakeup = sigset_t()
            sigemptyset(&wakeup)
            sigaddset(&wakeup, HostThread.wakeupSignal)
            pthread_sigmask(SIG_UNBLOCK, &wakeup, nil)
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw KVMError(call: "pthread_create", code: result)
        }
        self.handle = handle
    }

    /// Interrupts a blocking system call in the thread.
    func wake() {
        pthread_kill(handle, Self.wakeupSignal)
    }

    func join() {
        pthread_join(handle, nil)
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
