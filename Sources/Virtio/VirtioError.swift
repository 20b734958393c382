#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything that goes wrong in the Virtio module: a guest breaking the virtqueue
/// rules of virtio 1.2 §2.7 (which puts the device into `DEVICE_NEEDS_RESET`, §2.1.2),
/// a bad device option from the user, or a failed host call.
public enum VirtioError: Error, Equatable, CustomStringConvertible {
    /// A guest-supplied range that is not entirely guest RAM.
    case outsideGuestMemory(address: UInt64, length: UInt64)
    /// A ring address that breaks §2.7's alignment rules, or a queue size that is
    /// zero, not a power of two, or above the device's maximum.
    case badQueueLayout(String)
    /// `avail.idx` ran further ahead of the device than the queue size (§2.7.6).
    case availableIndexJump(from: UInt16, to: UInt16, queueSize: UInt16)
    /// A head or `next` index outside the descriptor table.
    case descriptorIndex(UInt16, tableSize: UInt32)
    /// A chain longer than the queue (a loop, or over-long), §2.7.5.3.1.
    case chainTooLong(limit: Int)
    /// An indirect table with a bad length, inside another indirect table, or
    /// combined with `NEXT` (§2.7.5.3.1).
    case badIndirectTable(String)
    /// A device-readable descriptor after a device-writable one (§2.7.4.2).
    case readableAfterWritable
    /// A request whose layout the device cannot answer at all (no status byte).
    case malformedRequest(String)
    /// A user-supplied device option that cannot work.
    case configuration(String)
    /// A host system call failed with `errno`.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .outsideGuestMemory(let address, let length):
            return "guest range 0x\(String(address, radix: 16)) + \(length) bytes is not guest RAM"
        case .badQueueLayout(let text): return "bad virtqueue layout: \(text)"
        case .availableIndexJump(let from, let to, let size):
            return "avail.idx jumped from \(from) to \(to) on a queue of \(size)"
        case .descriptorIndex(let index, let size): return "descriptor index \(index) outside a table of \(size)"
        case .chainTooLong(let limit): return "descriptor chain longer than \(limit) (loop?)"
        case .badIndirectTable(let text): return "bad indirect descriptor table: \(text)"
        case .readableAfterWritable: return "device-readable descriptor after a device-writable one"
        case .malformedRequest(let text): return "malformed request: \(text)"
        case .configuration(let text): return text
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
