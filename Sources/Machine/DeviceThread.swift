#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import KVM
import Virtio

/// The one device thread (DESIGN.md "Virtio"): a loop waiting on every queue's
/// notification eventfd that runs the device work, so vCPU threads only take exits.
/// It waits with `poll(2)`: the set is small (a few fds per device, at most eight
/// devices) plus the host inputs (TAP) of the devices that can take input right now.
final class DeviceThread: Sendable {
    let stopFD: Int32
    let transports: [MMIOTransport]
    /// (transport, queue) for each polled fd after the stop fd.
    private let queues: [(transport: Int, queue: Int, fd: Int32)]

    init(transports: [MMIOTransport]) throws(KVMError) {
        self.transports = transports
        stopFD = try Syscall.call("eventfd") { eventfd(0, Int32(EFD_CLOEXEC)) }
        var queues: [(transport: Int, queue: Int, fd: Int32)] = []
        for (index, transport) in transports.enumerated() {
            for (queue, fd) in transport.queueEventFDs.enumerated() { queues.append((index, queue, fd)) }
        }
        self.queues = queues
    }

    deinit { close(stopFD) }

    /// Waits for notifications until ``stop()``; runs on its own thread.
    func run() {
        let fixed = [pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            + queues.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while true {
            let inputs = transports.enumerated().compactMap { index, transport in
                transport.device.hostInput.map { (transport: index, queue: $0.queue, fd: $0.fd) }
            }
            var fds = fixed + inputs.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 { continue }
            if fds[0].revents != 0 { return }
            for (slot, entry) in (queues + inputs).enumerated() where fds[slot + 1].revents != 0 {
                transports[entry.transport].processQueue(entry.queue)
            }
        }
    }

    func stop() {
        var one: UInt64 = 1
        _ = write(stopFD, &one, 8)
    }
}
