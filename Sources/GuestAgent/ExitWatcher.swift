import HostSystem
import CLinux
import Glibc
import Synchronization

/// PID 1's child reaper: SIGCHLD is blocked in every thread and one thread waits for it
/// (sigwaitinfo), reaping every exited child, the agent's own and re-parented orphans.
/// A started process is registered under the same lock the reaper takes, so its status
/// cannot be reaped unseen: `spawn` returns an eventfd that becomes readable when the
/// process has exited, and `takeStatus` gives its wait status.
final class ExitWatcher: Sendable {
    private struct Watch {
        var eventFD: Int32
        var status: Int32?
    }
    private let watches = Mutex<[Int32: Watch]>([:])

    /// Blocks SIGCHLD in the calling thread; call before any thread is started, so every
    /// thread inherits the mask.
    static func blockChildSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGCHLD)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the reaper thread.
    func start() {
        startThread { [self] in
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGCHLD)
            while true {
                reapExited()
                _ = sigwaitinfo(&set, nil)
            }
        }
    }

    private func reapExited() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            if pid <= 0 { return }
            watches.withLock { watches in
                guard var watch = watches[pid] else { return }
                watch.status = status
                watches[pid] = watch
                var one: UInt64 = 1
                _ = write(watch.eventFD, &one, 8)
            }
        }
    }

    /// Runs `fork` (which returns a child's pid) with the reaper held off, and registers
    /// the child: returns its pid and the eventfd that signals its exit.
    func spawn(_ fork: () throws(SwiftletError) -> Int32) throws(SwiftletError) -> (pid: Int32, exitEvent: Int32) {
        let eventFD = try sys("eventfd") { eventfd(0, Int32(EFD_CLOEXEC)) }
        do throws(SwiftletError) {
            return try watches.withLock { watches throws(SwiftletError) -> (pid: Int32, exitEvent: Int32) in
                let pid = try fork()
                watches[pid] = Watch(eventFD: eventFD)
                return (pid, eventFD)
            }
        } catch {
            close(eventFD)
            throw error
        }
    }

    /// The wait status of an exited registered process (nil while it runs); the
    /// registration and its eventfd are released.
    func takeStatus(_ pid: Int32) -> Int32? {
        watches.withLock { watches in
            guard let watch = watches[pid], let status = watch.status else { return nil }
            watches[pid] = nil
            close(watch.eventFD)
            return status
        }
    }

    /// Blocks until the registered process has exited and returns its wait status.
    func waitForExit(_ pid: Int32, exitEvent: Int32) -> Int32 {
        while true {
            if let status = takeStatus(pid) { return status }
            var pollFD = pollfd(fd: exitEvent, events: Int16(POLLIN), revents: 0)
            _ = poll(&pollFD, 1, -1)
        }
    }
}
