/// Readiness of a host file descriptor, as the device thread reports it (epoll(7)
/// `EPOLLIN`/`EPOLLOUT`; a hang-up or error is reported as `input`, so that the next
/// read shows it).
public struct HostEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let input = HostEvents(rawValue: 1 << 0)
    public static let output = HostEvents(rawValue: 1 << 1)
}

/// The host file descriptors the device thread watches for the devices (one epoll
/// device thread: docs/architecture.md, "Concurrency"). Watches are edge-triggered: a handler is told when an fd
/// becomes readable or writable, so a device reads until `EAGAIN` (or remembers that
/// input is waiting) before it can expect another report. Handlers run on the device
/// thread, never on a vCPU thread; they may watch and unwatch fds themselves.
public protocol HostEventRegistry: AnyObject, Sendable {
    /// Starts watching `fd` for `events`; `handler` gets the events that occurred.
    func watch(_ fd: Int32, for events: HostEvents, handler: @escaping @Sendable (HostEvents) -> Void) throws(VirtioError)
    /// Changes the events `fd` is watched for (re-checked at once, edge-triggered).
    func change(_ fd: Int32, to events: HostEvents) throws(VirtioError)
    /// Stops watching `fd`; call before closing it. Pending reports for it are dropped.
    func unwatch(_ fd: Int32)
}

/// What a device gets from the device thread when it starts (``VirtioDevice/attach(_:)``):
/// where to register its host fds, and how to get one of its queues serviced.
public struct DeviceContext: Sendable {
    public let events: any HostEventRegistry
    /// Runs queue `index` now. Only from a host-event handler (device thread, no
    /// transport lock held).
    public let runQueue: @Sendable (Int) -> Void
    /// Asks the device thread to run queue `index` soon (an eventfd write); safe from
    /// any thread, including inside ``VirtioDevice/process(queue:index:memory:)``.
    public let wakeQueue: @Sendable (Int) -> Void

    public init(events: any HostEventRegistry, runQueue: @escaping @Sendable (Int) -> Void,
                wakeQueue: @escaping @Sendable (Int) -> Void) {
        self.events = events
        self.runQueue = runQueue
        self.wakeQueue = wakeQueue
    }
}
