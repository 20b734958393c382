import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A descriptor that several threads write to and one of them closes: writes and the
/// close are serialised, and nothing is written after the close (so a late writer never
/// reaches a descriptor number the process has since reused).
public final class SharedDescriptor: Sendable {
    private let fd: Mutex<Int32>

    /// Takes ownership of `fd`.
    public init(_ fd: Int32) {
        self.fd = Mutex(fd)
    }

    deinit { close() }

    /// Writes all of `bytes`; false once closed or when the write fails.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        fd.withLock { fd in
            guard fd >= 0 else { return false }
            return (try? Descriptors.writeAll(fd, bytes)) != nil
        }
    }

    public func close() {
        fd.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }
    }
}
