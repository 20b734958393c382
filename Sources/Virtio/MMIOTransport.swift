#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import Synchronization

/// A virtio-mmio transport, version 2 (virtio 1.2 §4.2.2 "MMIO Device Register
/// Layout"): the register window of one device, feature negotiation and the status
/// state machine of §3.1, queue setup, and the interrupt status of §4.2.3.4.
///
/// Queue notifications do not run device work on the vCPU thread: each queue has an
/// eventfd that KVM signals directly (ioeventfd on QueueNotify); a QueueNotify write
/// that still reaches ``write(offset:data:)`` only signals that eventfd. The device
/// thread then calls ``processQueue(_:)``. Interrupts go out through `interrupt` (an
/// irqfd write in the VMM).
public final class MMIOTransport: Sendable {
    public static let windowSize: UInt64 = 0x1000
    public static let queueNotifyOffset: UInt64 = 0x50
    static let magic: UInt32 = 0x7472_6976

    /// Device status bits (§2.1).
    public enum Status {
        public static let acknowledge: UInt32 = 1
        public static let driver: UInt32 = 2
        public static let driverOK: UInt32 = 4
        public static let featuresOK: UInt32 = 8
        public static let needsReset: UInt32 = 64
        public static let failed: UInt32 = 128
    }

    struct QueueRegisters {
        var size: UInt16 = 0
        var descriptor: UInt64 = 0
        var driver: UInt64 = 0
        var device: UInt64 = 0
        var ring: SplitQueue?
    }

    struct State {
        var status: UInt32 = 0
        var deviceFeatureSelect: UInt32 = 0
        var driverFeatureSelect: UInt32 = 0
        var driverFeatures: UInt64 = 0
        var queueSelect: UInt32 = 0
        var queues: [QueueRegisters]
        var interruptStatus: UInt32 = 0
        var configGeneration: UInt32 = 0
        var failure: VirtioError?
    }

    public let device: any VirtioDevice
    public let memory: any GuestRAM
    /// One eventfd per queue, signalled by a guest write of the queue's index to
    /// QueueNotify.
    public let queueEventFDs: [Int32]
    let interrupt: @Sendable () -> Void
    let state: Mutex<State>

    var offeredFeatures: UInt64 { device.features | TransportFeature.all }

    public init(device: any VirtioDevice, memory: any GuestRAM,
                interrupt: @escaping @Sendable () -> Void) throws(VirtioError) {
        var fds: [Int32] = []
        for _ in device.queueSizes {
            let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
            guard fd >= 0 else {
                let code = errno
                fds.forEach { close($0) }
                throw .system(call: "eventfd", errno: code)
            }
            fds.append(fd)
        }
        self.device = device
        self.memory = memory
        self.interrupt = interrupt
        queueEventFDs = fds
        state = Mutex(State(queues: Array(repeating: QueueRegisters(), count: device.queueSizes.count)))
    }

    deinit { queueEventFDs.forEach { close($0) } }

    /// Why the device asked for a reset, if it did.
    public var failure: VirtioError? { state.withLock { $0.failure } }

    /// A guest read of the register at `offset` (4-byte registers; config space any size).
    public func read(offset: UInt64, data: UnsafeMutableRawBufferPointer) {
        if offset >= 0x100 {
            let config = device.configuration
            for i in 0..<data.count {
                let at = Int(offset - 0x100) + i
                data[i] = at < config.count ? config[at] : 0
            }
            return
        }
        let value: UInt32 = state.withLock { s in registerValue(offset, state: s) }
        for i in 0..<data.count { data[i] = i < 4 ? UInt8(truncatingIfNeeded: value >> (8 * i)) : 0 }
    }

    private func registerValue(_ offset: UInt64, state s: State) -> UInt32 {
        let queue = Int(s.queueSelect) < s.queues.count ? s.queues[Int(s.queueSelect)] : nil
        switch offset {
        case 0x000: return Self.magic
        case 0x004: return 2
        case 0x008: return device.deviceType.rawValue
        case 0x00C: return 0x554D_4551
        case 0x010: return s.deviceFeatureSelect < 2 ? UInt32(truncatingIfNeeded: offeredFeatures >> (32 * UInt64(s.deviceFeatureSelect))) : 0
        case 0x034: return queue == nil ? 0 : UInt32(device.queueSizes[Int(s.queueSelect)])
        case 0x038: return UInt32(queue?.size ?? 0)
        case 0x044: return queue?.ring == nil ? 0 : 1
        case 0x060: return s.interruptStatus
        case 0x070: return s.status
        case 0x0B0, 0x0B4: return 0xFFFF_FFFF
        case 0x0FC: return s.configGeneration
        default: return 0
        }
    }

    /// A guest write to the register at `offset`. Only 4-byte register writes count.
    public func write(offset: UInt64, data: UnsafeRawBufferPointer) {
        guard offset < 0x100, data.count == 4 else { return }
        let value = data.loadUnaligned(as: UInt32.self).littleEndian
        if offset == Self.queueNotifyOffset {
            if Int(value) < queueEventFDs.count { signal(queueEventFDs[Int(value)]) }
            return
        }
        state.withLock { s in writeRegister(offset, value: value, state: &s) }
    }

    private func writeRegister(_ offset: UInt64, value: UInt32, state s: inout State) {
        let selected = Int(s.queueSelect)
        let queueWritable = selected < s.queues.count && s.queues[selected].ring == nil
        func setHalf(_ target: inout UInt64, high: Bool) {
            target = high ? (target & 0xFFFF_FFFF) | UInt64(value) << 32 : (target & ~0xFFFF_FFFF) | UInt64(value)
        }
        switch offset {
        case 0x014: s.deviceFeatureSelect = value
        case 0x020:
            if s.driverFeatureSelect < 2, s.status & Status.featuresOK == 0 {
                setHalf(&s.driverFeatures, high: s.driverFeatureSelect == 1)
            }
        case 0x024: s.driverFeatureSelect = value
        case 0x030: s.queueSelect = value
        case 0x038 where queueWritable: s.queues[selected].size = UInt16(truncatingIfNeeded: value)
        case 0x044 where selected < s.queues.count: setQueueReady(selected, value == 1, state: &s)
        case 0x064: s.interruptStatus &= ~value
        case 0x070: setStatus(value, state: &s)
        case 0x080 where queueWritable: setHalf(&s.queues[selected].descriptor, high: false)
        case 0x084 where queueWritable: setHalf(&s.queues[selected].descriptor, high: true)
        case 0x090 where queueWritable: setHalf(&s.queues[selected].driver, high: false)
        case 0x094 where queueWritable: setHalf(&s.queues[selected].driver, high: true)
        case 0x0A0 where queueWritable: setHalf(&s.queues[selected].device, high: false)
        case 0x0A4 where queueWritable: setHalf(&s.queues[selected].device, high: true)
        default: break
        }
    }

    private func setQueueReady(_ index: Int, _ ready: Bool, state s: inout State) {
        guard ready else {
            s.queues[index].ring = nil
            return
        }
        guard s.queues[index].ring == nil else { return }
        let q = s.queues[index]
        do {
            s.queues[index].ring = try SplitQueue(size: q.size, maximumSize: device.queueSizes[index],
                                                  descriptorTable: q.descriptor, availableRing: q.driver, usedRing: q.device,
                                                  eventIndex: s.driverFeatures & TransportFeature.eventIndex != 0,
                                                  memory: memory)
        } catch {
            if fail(error, state: &s) { interrupt() }
        }
    }

    /// §3.1.1 / §2.1.2: 0 resets; FEATURES_OK sticks only for an acceptable feature
    /// set; status bits are otherwise only added.
    private func setStatus(_ value: UInt32, state s: inout State) {
        if value == 0 {
            s = State(queues: Array(repeating: QueueRegisters(), count: s.queues.count))
            device.reset()
            return
        }
        var accepted = value
        if value & Status.featuresOK != 0, s.status & Status.featuresOK == 0 {
            let acceptable = s.driverFeatures & ~offeredFeatures == 0 && s.driverFeatures & TransportFeature.version1 != 0
            if !acceptable { accepted &= ~Status.featuresOK }
        }
        let starting = accepted & Status.driverOK != 0 && s.status & Status.driverOK == 0
        s.status = (s.status & Status.needsReset) | accepted
        if starting { device.activate(features: s.driverFeatures) }
    }

    /// Enters `DEVICE_NEEDS_RESET` with a configuration-change interrupt; returns
    /// whether the caller must raise it (only a driver that is running gets one).
    private func fail(_ error: VirtioError, state s: inout State) -> Bool {
        s.failure = error
        s.status |= Status.needsReset
        s.interruptStatus |= 2
        s.configGeneration &+= 1
        return s.status & Status.driverOK != 0
    }

    /// Runs the device on queue `index` after a notification (device thread): drains
    /// the queue's eventfd, processes the ring, and raises a used-buffer interrupt if
    /// the driver wants one. A ring violation puts the device in `DEVICE_NEEDS_RESET`.
    public func processQueue(_ index: Int) {
        guard index < queueEventFDs.count else { return }
        var counter: UInt64 = 0
        _ = Glibc.read(queueEventFDs[index], &counter, 8)
        runQueue(index)
    }

    /// Processes queue `index` without a notification (device thread, from a host-event
    /// handler of the device: host input arrived for that queue).
    public func runQueue(_ index: Int) {
        guard index < queueEventFDs.count else { return }
        // The interrupt goes out after the lock is released: the vCPU taking it reads
        // InterruptStatus at once and would otherwise wait for this thread.
        let raise: Bool = state.withLock { s in
            guard s.status & Status.driverOK != 0, s.status & Status.needsReset == 0,
                  var ring = s.queues[index].ring else { return false }
            do throws(VirtioError) {
                let used = try device.process(queue: &ring, index: index, memory: memory)
                guard used, try ring.needsInterrupt(memory: memory) else {
                    s.queues[index].ring = ring
                    return false
                }
                s.queues[index].ring = ring
                s.interruptStatus |= 1
                return true
            } catch {
                s.queues[index].ring = ring
                return fail(error, state: &s)
            }
        }
        if raise { interrupt() }
    }

    /// Asks the device thread to run queue `index` as if the driver had notified it
    /// (safe from any thread, also from inside the device's `process`).
    public func wake(queue index: Int) {
        if index < queueEventFDs.count { signal(queueEventFDs[index]) }
    }

    private func signal(_ fd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(fd, &one, 8)
    }
}
