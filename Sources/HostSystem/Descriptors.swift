#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// Writing whole buffers to file descriptors (write(2) until every byte is written,
/// retrying EINTR and short writes: swift-system's `FileDescriptor.writeAll`).
public enum Descriptors {
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, what: @autoclosure () -> String = "write")
        throws(SwiftletError) {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch let error as Errno {
            throw SwiftletError(what(), errno: error)
        } catch {
            throw SwiftletError(what(), errno: .ioError)
        }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: @autoclosure () -> String = "write") throws(SwiftletError) {
        let name = what()
        try bytes.withUnsafeBytes { buffer in Result { () throws(SwiftletError) in try writeAll(fd, buffer, what: name) } }.get()
    }
}

extension Descriptors {
    /// Reads exactly `buffer.count` bytes, retrying EINTR and short reads; false on end of
    /// file or an error first.
    public static func readFully(_ fd: Int32, _ buffer: inout [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }
}

func currentErrno() -> Int32 { errno }
