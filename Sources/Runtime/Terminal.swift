import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for a container's pseudo-terminal on the host side (`-t`): the client's
/// terminal in raw mode while attached, window sizes, and copying between the terminal
/// master and the client's stdio.
enum Terminal {
    /// The window size of the first of `fds` that is a terminal.
    static func size(of fds: [Int32]) -> winsize? {
        for fd in fds {
            var size = winsize()
            if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 { return size }
        }
        return nil
    }

    /// Puts stdin, if it is a terminal, in raw mode (the container's terminal does line
    /// editing and turns ^C into SIGINT); returns what restores it.
    static func makeRaw() -> () -> Void {
        var saved = termios()
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return {} }
        var mode = saved
        cfmakeraw(&mode)
        tcsetattr(0, TCSANOW, &mode)
        return { tcsetattr(0, TCSANOW, &saved) }
    }

    /// Calls `handler` on every SIGWINCH until the returned source is cancelled.
    static func onResize(_ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(SIGWINCH, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGWINCH)
        source.setEventHandler(handler: handler)
        source.resume()
        return source
    }

    /// Copies `source` to `target` on its own thread until EOF (EIO from a master whose
    /// slave closed) or a failed write; the semaphore is signalled at the end.
    @discardableResult
    static func relay(from source: Int32, to target: Int32) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 32768)
            while true {
                let count = read(source, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 || !writeAll(target, Data(buffer[0..<count])) { break }
            }
            done.signal()
        }
        thread.start()
        return done
    }
}
