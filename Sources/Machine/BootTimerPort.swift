#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A debug port for boot-time stamps: each byte the guest writes to I/O port 0x440
/// is recorded with the time since the VMM started and, when logging is on, printed
/// to stderr ("boot-timer: value 0x.. at N.NNN ms"). The guest's init (or a test
/// firmware) writes it at milestones, e.g. on reaching userspace. Modelled on
/// Firecracker's boot-timer device, on a port instead of MMIO.
public final class BootTimerPort: BusDevice {
    public static let port: UInt64 = 0x440

    /// One guest write: its value and nanoseconds since the VMM's start time.
    public struct Stamp: Equatable, Sendable {
        public let value: UInt8
        public let nanoseconds: UInt64
    }

    private let startNanoseconds: UInt64
    private let logging: Bool
    private let stamps = Mutex<[Stamp]>([])

    public init(startNanoseconds: UInt64, logging: Bool) {
        self.startNanoseconds = startNanoseconds
        self.logging = logging
    }

    /// CLOCK_MONOTONIC now, in nanoseconds.
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Every stamp so far, oldest first.
    public var recorded: [Stamp] { stamps.withLock { $0 } }

    public func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
        data.initializeMemory(as: UInt8.self, repeating: 0)
    }

    public func write(offset: UInt64, data: UnsafeRawBufferPointer) {
        guard let value = data.first else { return }
        let now = Self.monotonicNanoseconds()
        let elapsed = now >= startNanoseconds ? now - startNanoseconds : 0
        stamps.withLock { $0.append(Stamp(value: value, nanoseconds: elapsed)) }
        if logging {
            let micros = elapsed / 1000
            let fraction = String(micros % 1000)
            let padded = String(repeating: "0", count: 3 - fraction.count) + fraction
            let hex = String(value, radix: 16)
            StandardError.write("boot-timer: value 0x\(hex) at \(micros / 1000).\(padded) ms\n")
        }
    }
}
