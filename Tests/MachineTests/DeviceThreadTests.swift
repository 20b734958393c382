#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Virtio
@testable import Machine

/// The epoll device thread as a ``HostEventRegistry``: edge-triggered reports to the
/// registered handler, changes of interest, and nothing after unwatch.
@Suite struct DeviceThreadTests {
    /// The reports a handler received; each also writes a byte to a pipe that `wait`
    /// reads (with a deadline), so a test sleeps only until the report arrives.
    final class Reports: Sendable {
        let events = Mutex<[HostEvents]>([])
        private let notices: [Int32]
        var count: Int { events.withLock { $0.count } }

        init() {
            var fds: [Int32] = [-1, -1]
            _ = pipe(&fds)
            notices = fds
        }

        deinit { notices.forEach { close($0) } }

        func record(_ event: HostEvents) {
            events.withLock { $0.append(event) }
            var byte: UInt8 = 1
            _ = write(notices[1], &byte, 1)
        }

        func wait(for count: Int) -> Bool {
            var byte: UInt8 = 0
            var poller = pollfd(fd: notices[0], events: Int16(POLLIN), revents: 0)
            while self.count < count, poll(&poller, 1, 1000) > 0, read(notices[0], &byte, 1) > 0 {}
            return self.count >= count
        }
    }

    @Test func watchedFDsReachTheirHandlersUntilUnwatched() throws {
        let thread = try DeviceThread(transports: [])
        let runner = try HostThread { thread.run() }
        defer {
            thread.stop()
            runner.join()
            thread.close()
        }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let reports = Reports()
        try thread.watch(fds[0], for: .input) { events in reports.record(events) }
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)
        #expect(reports.wait(for: 1))
        #expect(reports.events.withLock { $0.first } == .input)

        try thread.change(fds[0], to: [.input, .output])
        _ = write(fds[1], &byte, 1)
        #expect(reports.wait(for: 2), "edge-triggered: new input is reported again")

        // After unwatch, input on the pipe is not reported; a second pipe written after it
        // is, and the thread handles events in order, so its report comes last.
        thread.unwatch(fds[0])
        var sentinel: [Int32] = [0, 0]
        #expect(pipe(&sentinel) == 0)
        defer { close(sentinel[0]); close(sentinel[1]) }
        let sentinelReports = Reports()
        try thread.watch(sentinel[0], for: .input) { events in sentinelReports.record(events) }
        let before = reports.count
        _ = write(fds[1], &byte, 1)
        _ = write(sentinel[1], &byte, 1)
        #expect(sentinelReports.wait(for: 1))
        #expect(reports.count == before, "no report after unwatch")
    }
}
