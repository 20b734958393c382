#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Changes to one file, or to the files of one directory, from inotify(7): written,
/// closed after writing, created, renamed into the directory or removed (and, when asked,
/// opened). For waiting until something (a log, a state file replaced by rename) changes
/// instead of re-reading it on a timer.
public final class FileChangeWatch {
    private let fd: Int32

    /// Watches `path`, a file or a directory (it must exist); `opens` adds every open.
    public init(_ path: String, opens: Bool = false) throws(SwiftletError) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw .last("inotify_init1") }
        let mask = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_ATTRIB)
            | (opens ? UInt32(IN_OPEN) : 0)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            let failure = SwiftletError.last("inotify_add_watch \(path)")
            close(fd)
            throw failure
        }
    }

    deinit { close(fd) }

    /// Waits until something changed since the last call (or since the watch began), at
    /// most `timeout` seconds when given; whether something did.
    @discardableResult
    public func wait(timeout: Double? = nil) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(min(max($0, 0) * 1000, Double(Int32.max)).rounded(.up)) } ?? -1
        var ready: Int32
        repeat { ready = poll(&poller, 1, milliseconds) } while ready < 0 && errno == EINTR
        guard ready > 0 else { return false }
        // Drain the queued events: the caller re-reads what it watches anyway.
        var buffer = [UInt8](repeating: 0, count: 4096)
        while read(fd, &buffer, buffer.count) > 0 {}
        return true
    }
}
