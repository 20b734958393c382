#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM
import Synchronization
import Virtio

/// The one device thread (docs/architecture.md, "Concurrency"): an epoll(7) loop over every queue's
/// notification eventfd and the host fds the devices register (TAP, Unix sockets), so
/// vCPU threads only take exits. It is the devices' ``HostEventRegistry``: watches are
/// edge-triggered and named by a token, never by the fd number alone, so a report for
/// an fd that was unwatched (and perhaps reused) in the meantime is dropped.
final class DeviceThread: HostEventRegistry {
    private struct Watches {
        var nextToken: UInt64 = 1
        var tokens: [Int32: UInt64] = [:]
        var handlers: [UInt64: @Sendable (HostEvents) -> Void] = [:]
        var closed = false
    }

    /// Token of the stop eventfd.
    private static let stopToken: UInt64 = 0
    private static let batch = 64

    let epollFD: Int32
    let stopFD: Int32
    let transports: [MMIOTransport]
    private let watches = Mutex(Watches())

    /// Watches every queue eventfd, then lets each device register its host fds.
    init(transports: [MMIOTransport]) throws {
        self.transports = transports
        epollFD = try Syscall.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        do {
            stopFD = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_CLOEXEC)) }
        } catch {
            Glibc.close(epollFD)
            throw error
        }
        var stop = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: Self.stopToken))
        try Syscall.call("epoll_ctl") { epoll_ctl(epollFD, EPOLL_CTL_ADD, stopFD, &stop) }
        for transport in transports {
            for (queue, fd) in transport.queueEventFDs.enumerated() {
                try watch(fd, for: .input) { [weak transport] _ in transport?.processQueue(queue) }
            }
            try transport.device.attach(DeviceContext(
                events: self,
                runQueue: { [weak transport] queue in transport?.runQueue(queue) },
                wakeQueue: { [weak transport] queue in transport?.wake(queue: queue) }))
        }
    }

    deinit { close() }

    private static func epollEvents(_ events: HostEvents) -> UInt32 {
        var mask = EPOLLET.rawValue | EPOLLRDHUP.rawValue
        if events.contains(.input) { mask |= EPOLLIN.rawValue }
        if events.contains(.output) { mask |= EPOLLOUT.rawValue }
        return mask
    }

    func watch(_ fd: Int32, for events: HostEvents, handler: @escaping @Sendable (HostEvents) -> Void) throws(VirtioError) {
        let token = watches.withLock { w in
            let token = w.nextToken
            w.nextToken += 1
            w.tokens[fd] = token
            w.handlers[token] = handler
            return token
        }
        var event = epoll_event(events: Self.epollEvents(events), data: epoll_data_t(u64: token))
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            let code = errno
            watches.withLock { w in
                w.tokens[fd] = nil
                w.handlers[token] = nil
            }
            throw .system(call: "epoll_ctl(ADD)", errno: code)
        }
    }

    func change(_ fd: Int32, to events: HostEvents) throws(VirtioError) {
        guard let token = watches.withLock({ $0.tokens[fd] }) else { return }
        var event = epoll_event(events: Self.epollEvents(events), data: epoll_data_t(u64: token))
        guard epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 else { throw .system(call: "epoll_ctl(MOD)", errno: errno) }
    }

    func unwatch(_ fd: Int32) {
        watches.withLock { w in
            if let token = w.tokens.removeValue(forKey: fd) { w.handlers[token] = nil }
        }
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    /// Waits for events until ``stop()``; runs on its own thread. Handlers run without
    /// the registry's lock, so they may watch and unwatch.
    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: Self.batch)
        while true {
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, Int32($0.count), -1) }
            if count < 0 { continue }
            for event in events[0..<Int(count)] {
                let token = event.data.u64
                if token == Self.stopToken { return }
                guard let handler = watches.withLock({ $0.handlers[token] }) else { continue }
                var ready: HostEvents = []
                if event.events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                    ready.insert(.input)
                }
                if event.events & (EPOLLOUT.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { ready.insert(.output) }
                handler(ready)
            }
        }
    }

    func stop() {
        var one: UInt64 = 1
        _ = write(stopFD, &one, 8)
    }

    /// Forgets every handler (they hold the devices, which hold this registry) and
    /// closes the thread's fds. Call after the thread has returned.
    func close() {
        let wasClosed = watches.withLock { w in
            defer { w = Watches(closed: true) }
            return w.closed
        }
        guard !wasClosed else { return }
        Glibc.close(stopFD)
        Glibc.close(epollFD)
    }
}
