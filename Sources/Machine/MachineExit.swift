#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM
import Synchronization

/// How a microVM's run ended, and the process exit status `swiftlet boot` maps it to.
public enum MachineExit: Equatable, Sendable, CustomStringConvertible {
    /// The guest powered off (ACPI S5 through the FADT sleep control register).
    case powerOff
    /// The guest asked for a reset (i8042 0xFE, ACPI reset register, KVM system event).
    case reset(source: String)
    /// The host asked the VMM to stop (SIGINT/SIGTERM).
    case signal(Int32)
    /// The guest cannot continue: triple fault, KVM internal/emulation error, failed
    /// entry. The text names the cause and carries the vCPU's register dump.
    case fault(String)

    /// 0 for a guest-requested stop, 128+N for signal N, 1 for a fault.
    public var exitStatus: Int32 {
        switch self {
        case .powerOff, .reset: return 0
        case .signal(let number): return 128 + number
        case .fault: return 1
        }
    }

    public var description: String {
        switch self {
        case .powerOff: return "guest powered off"
        case .reset(let source): return "guest reset (\(source))"
        case .signal(let number): return "stopped by signal \(number)"
        case .fault(let text): return text
        }
    }
}

/// The first exit request of a running machine, recorded once from whichever thread
/// sees it (a vCPU thread for guest exits, the main thread for signals), plus an
/// eventfd that wakes the thread waiting for the machine to end.
public final class ExitLatch: Sendable {
    private let state = Mutex<MachineExit?>(nil)
    /// Readable once an exit has been recorded.
    public let eventFD: Int32

    public init() throws(KVMError) {
        eventFD = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_CLOEXEC)) }
    }

    deinit { close(eventFD) }

    /// Records `exit` unless an earlier one was recorded; returns whether it was first.
    @discardableResult
    public func record(_ exit: MachineExit) -> Bool {
        let first = state.withLock { current in
            if current != nil { return false }
            current = exit
            return true
        }
        if first {
            var one: UInt64 = 1
            _ = write(eventFD, &one, 8)
        }
        return first
    }

    public var exit: MachineExit? { state.withLock { $0 } }
}
