#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// virtio-rng (virtio 1.2 §5.4 "Entropy Device"): one request queue whose
/// device-writable buffers are filled from the host's `/dev/urandom` (the same pool
/// as `getrandom(2)`, which Glibc's Swift module does not export).
public final class EntropyDevice: VirtioDevice {
    public static let queueSize: UInt16 = 64
    /// Largest number of bytes handed out per request.
    static let requestLimit: UInt64 = 64 << 10

    public let deviceType = VirtioDeviceType.entropy
    public let features: UInt64 = 0
    public let configuration: [UInt8] = []
    public var queueSizes: [UInt16] { [Self.queueSize] }

    let fd: Int32

    public init() throws(VirtioError) {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(call: "open(/dev/urandom)", errno: errno) }
    }

    deinit { close(fd) }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            var filled: UInt64 = 0
            let wanted = min(chain.writableLength, Self.requestLimit)
            try DescriptorChain.forEach(in: chain.writable, offset: 0, length: wanted, memory: memory) { buffer in
                var done = 0
                while done < buffer.count {
                    let n = read(fd, buffer.baseAddress! + done, buffer.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    done += n
                }
                filled += UInt64(done)
            }
            try queue.addUsed(head: chain.head, length: UInt32(filled), memory: memory)
            used = true
        }
        return used
    }
}
