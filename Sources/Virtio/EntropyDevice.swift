#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// virtio-rng (virtio 1.2 §5.4 "Entropy Device"): one request queue whose
/// device-writable buffers are filled from the host kernel's entropy pool with
/// `getrandom(2)` (no file descriptor; blocks only before the pool is first seeded).
public final class EntropyDevice: VirtioDevice {
    public static let queueSize: UInt16 = 64
    /// Largest number of bytes handed out per request.
    static let requestLimit: UInt64 = 64 << 10

    public let deviceType = VirtioDeviceType.entropy
    public let features: UInt64 = 0
    public let configuration: [UInt8] = []
    public var queueSizes: [UInt16] { [Self.queueSize] }

    public init() {}

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            var filled: UInt64 = 0
            let wanted = min(chain.writableLength, Self.requestLimit)
            try DescriptorChain.forEach(in: chain.writable, offset: 0, length: wanted, memory: memory) { buffer in
                filled += UInt64(Self.fill(buffer))
            }
            try queue.addUsed(head: chain.head, length: UInt32(filled), memory: memory)
            used = true
        }
        return used
    }

    /// Fills `buffer` from getrandom(2); returns how many bytes it got (getrandom hands
    /// out at most 32 MiB - 1 per call and may be interrupted, so it loops).
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = getrandom(base + done, buffer.count - done, 0)
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            done += n
        }
        return done
    }
}
