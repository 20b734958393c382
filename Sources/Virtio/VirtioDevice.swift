/// Device types of virtio 1.2 §5 "Device Types" (the transport's DeviceID register).
public enum VirtioDeviceType: UInt32, Sendable {
    case network = 1
    case block = 2
    case console = 3
    case entropy = 4
    case socket = 19
}

/// Feature bits reserved for the transport and ring (virtio 1.2 §6 "Reserved
/// Feature Bits") that every Swiftlet device offers.
public enum TransportFeature {
    public static let indirectDescriptors: UInt64 = 1 << 28
    public static let eventIndex: UInt64 = 1 << 29
    public static let version1: UInt64 = 1 << 32
    public static let all = indirectDescriptors | eventIndex | version1
}

/// One virtio device behind a transport (virtio 1.2 §5): its type, device-specific
/// features and configuration space, its queues, and the work it does when the driver
/// notifies a queue. `process` runs on the device thread with the transport's lock
/// held, so a device needs no lock of its own for queue work.
public protocol VirtioDevice: AnyObject, Sendable {
    var deviceType: VirtioDeviceType { get }
    /// Device-specific feature bits (the transport adds ``TransportFeature/all``).
    var features: UInt64 { get }
    /// The maximum size of each queue (QueueNumMax), in queue order.
    var queueSizes: [UInt16] { get }
    /// The device configuration space (§4.2.2 offset 0x100 onwards).
    var configuration: [UInt8] { get }
    /// Takes and completes available buffers of queue `index`; returns whether any
    /// buffer was used. Throwing means the driver broke the ring rules: the transport
    /// then sets `DEVICE_NEEDS_RESET`.
    func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool
    /// Called once on the device thread before it starts waiting: a device with host
    /// file descriptors (a TAP, Unix sockets) registers them with `context.events`.
    func attach(_ context: DeviceContext) throws(VirtioError)
    /// The driver set DRIVER_OK having negotiated `features` (§3.1.1 step 8).
    func activate(features: UInt64)
    /// The driver reset the device (§2.1.2, status 0).
    func reset()
}

extension VirtioDevice {
    public func attach(_ context: DeviceContext) throws(VirtioError) {}
    public func activate(features: UInt64) {}
    public func reset() {}
}
