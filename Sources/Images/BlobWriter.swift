import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A blob being written to a temporary file: hashed and counted as it is written, fsynced
/// and checked against the expected digest and size before anyone may use it (OCI image-spec
/// descriptor.md, "Verification"). A mismatch removes the file.
package final class BlobWriter {
    package let path: String
    private let fd: Int32
    private var hasher = DigestHasher()
    package private(set) var count: Int64 = 0
    private var closed = false

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SwiftletError("cannot create \(path): \(errnoText())") }
    }

    deinit {
        if !closed {
            close(fd)
            unlink(path)
        }
    }

    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        count += Int64(bytes.count)
        try writeAll(fd, bytes, path: path)
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in try write(bytes) }
    }

    /// Fsyncs and closes the file and checks it. On success the file stays at `path`;
    /// otherwise it is removed and the error says what differed.
    @discardableResult
    func finish(expecting expected: Digest?, size: Int64? = nil, what: String) throws -> Digest {
        closed = true
        let synced = fsync(fd) == 0
        close(fd)
        let digest = hasher.finalize()
        guard synced else {
            unlink(path)
            throw SwiftletError("cannot write \(path): \(errnoText())")
        }
        if let size, size != count {
            unlink(path)
            throw SwiftletError("\(what): size mismatch: expected \(size) bytes, got \(count)")
        }
        if let expected, expected != digest {
            unlink(path)
            throw SwiftletError("\(what): digest mismatch: expected \(expected), content hashes to \(digest)")
        }
        return digest
    }
}

/// Writes every byte (HostSystem's `Descriptors.writeAll`), as an image store error naming `path`.
package func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    try Descriptors.writeAll(fd, bytes, what: "cannot write \(path)")
}

/// The current `errno` as text.
package func errnoText() -> String {
    String(cString: strerror(errno))
}

/// Fsyncs a directory so a rename into it is durable.
func syncDirectory(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}

/// Copies `source` to the file `path` (created or truncated), handing each chunk to
/// `observe` on the way (a digest, say).
func copy(_ source: any ByteSource, toFile path: String, observe: (UnsafeRawBufferPointer) -> Void = { _ in }) throws {
    let output = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard output >= 0 else { throw SwiftletError("cannot create \(path): \(errnoText())") }
    defer { close(output) }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
        if count == 0 { break }
        try chunk.withUnsafeBytes { bytes in
            let part = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
            observe(part)
            try writeAll(output, part, path: path)
        }
    }
}
