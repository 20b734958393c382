import Synchronization

/// virtio-console with a single port and no multiport feature (virtio 1.2 §5.3):
/// queue 0 (receiveq) carries host input to the guest's `hvc0`, queue 1 (transmitq)
/// carries the guest's output to `output`. Host input waits in a bounded buffer until
/// the guest posts receive buffers.
public final class ConsoleDevice: VirtioDevice {
    public static let queueSize: UInt16 = 64
    public static let receiveQueue = 0
    public static let transmitQueue = 1
    /// Input beyond this many unread bytes is dropped, like a full UART FIFO.
    static let pendingLimit = 64 << 10

    public let deviceType = VirtioDeviceType.console
    public let features: UInt64 = 0
    /// §5.3.4: cols, rows, max_nr_ports, emerg_wr — unused without the size and
    /// multiport features, present for drivers that read them anyway.
    public let configuration = [UInt8](repeating: 0, count: 12)
    public var queueSizes: [UInt16] { [Self.queueSize, Self.queueSize] }
    let output: @Sendable ([UInt8]) -> Void
    let pending = Mutex<[UInt8]>([])

    public init(output: @escaping @Sendable ([UInt8]) -> Void) {
        self.output = output
    }

    /// Queues host input for the guest; the caller then notifies the receive queue
    /// (``MMIOTransport/wake(queue:)``) so the device thread delivers it.
    public func receive(_ bytes: [UInt8]) {
        pending.withLock { buffer in
            buffer += bytes.prefix(max(0, Self.pendingLimit - buffer.count))
        }
    }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        index == Self.receiveQueue ? try deliverInput(queue: &queue, memory: memory) : try sendOutput(queue: &queue, memory: memory)
    }

    private func sendOutput(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            var bytes: [UInt8] = []
            try DescriptorChain.forEach(in: chain.readable, offset: 0, length: chain.readableLength, memory: memory) {
                bytes += $0
            }
            output(bytes)
            try queue.addUsed(head: chain.head, length: 0, memory: memory)
            used = true
        }
        return used
    }

    private func deliverInput(queue: inout SplitQueue, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while pending.withLock({ !$0.isEmpty }), let chain = try queue.next(memory: memory) {
            let bytes = pending.withLock { buffer in
                let taken = Array(buffer.prefix(Int(min(chain.writableLength, UInt64(Int.max)))))
                buffer.removeFirst(taken.count)
                return taken
            }
            let written = try chain.writeBytes(bytes, offset: 0, memory: memory)
            try queue.addUsed(head: chain.head, length: UInt32(written), memory: memory)
            used = true
        }
        return used
    }
}
