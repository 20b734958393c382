#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// Replacing a file so that readers see the old or the new content, never a mix, and a
/// crash leaves one of the two on disk: the bytes go to a new temporary file in the same
/// directory, which is fsynced and renamed over `path`; then the directory is fsynced so
/// the rename itself is durable (rename(2), fsync(2)).
public enum AtomicFile {
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String, permissions: mode_t = 0o644) throws(SwiftletError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw .last("create \(temporary)") }
        do throws(SwiftletError) {
            defer { close(fd) }
            try Descriptors.writeAll(fd, bytes, what: "write \(temporary)")
            guard fsync(fd) == 0 else { throw SwiftletError.last("fsync \(temporary)") }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = SwiftletError.last("rename \(temporary) to \(path)")
            unlink(temporary)
            throw failure
        }
        syncDirectory(of: path)
    }

    public static func write(_ bytes: [UInt8], to path: String, permissions: mode_t = 0o644) throws(SwiftletError) {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SwiftletError) in try write(buffer, to: path, permissions: permissions) }
        }.get()
    }

    /// fsyncs the directory holding `path` (best effort: the data is already in place).
    public static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
