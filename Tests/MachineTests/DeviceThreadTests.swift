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
    final class Reports: Sendable {
        let events = Mutex<[HostEvents]>([])
        var count: Int { events.withLock { $0.count } }

        func wait(for count: Int) -> Bool {
            for _ in 0..<500 where self.count < count { usleep(2000) }
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
        try thread.watch(fds[0], for: .input) { events in reports.events.withLock { $0.append(events) } }
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)
        #expect(reports.wait(for: 1))
        #expect(reports.events.withLock { $0.first } == .input)

        try thread.change(fds[0], to: [.input, .output])
        _ = write(fds[1], &byte, 1)
        #expect(reports.wait(for: 2), "edge-triggered: new input is reported again")

        thread.unwatch(fds[0])
        let before = reports.count
        _ = write(fds[1], &byte, 1)
        usleep(50_000)
        #expect(reports.count == before, "no report after unwatch")
    }
}
