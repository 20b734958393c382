import HostSystem
import Glibc

/// Runs a system call, retrying EINTR; a negative result throws an `SwiftletError` naming
/// `call` with errno's text.
@discardableResult
func sys<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(SwiftletError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = errno
        if error == EINTR { continue }
        throw SwiftletError(call(), errno: error)
    }
}

/// Writes a line to the agent's stderr, which is the serial console (/dev/console).
public func consoleLog(_ line: String) {
    let bytes = Array("swiftlet-init: \(line)\n".utf8)
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Starts a detached POSIX thread running `body` (the agent links no Foundation).
func startThread(_ body: @escaping @Sendable () -> Void) {
    do {
        try PosixThread.detached(body)
    } catch {
        consoleLog("cannot start a thread: \(error)")
    }
}

/// Reads a whole (small) file, or nil when it cannot be opened.
func readTextFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return String(decoding: readToEnd(fd), as: UTF8.self)
}

/// Reads `fd` until end of file (or an error).
func readToEnd(_ fd: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

/// Seconds since boot, from /proc/uptime, for the console log.
func uptime() -> String {
    readTextFile("/proc/uptime")?.split(separator: " ").first.map(String.init) ?? "?"
}

/// Sleeps for `milliseconds`.
func sleepMilliseconds(_ milliseconds: Int) {
    var pause = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    _ = nanosleep(&pause, nil)
}
