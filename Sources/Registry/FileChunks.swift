import HostSystem
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A file's content as an async sequence of 1 MiB `ByteBuffer`s, for streaming an upload
/// body without holding the whole blob in memory. Each iteration opens the file anew (a
/// retried request reads it again); the descriptor closes at the end or when the iterator
/// is dropped.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let chunkSize = 1 << 20
    let path: String

    /// Fails now, naming the file, if it cannot be opened.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SwiftletError.last("open \(path)") }
        close(fd)
        self.path = path
    }

    func makeAsyncIterator() -> Iterator { Iterator(path: path) }

    final class Iterator: AsyncIteratorProtocol {
        private let path: String
        private var fd: Int32 = -1
        private var offset: off_t = 0
        private var finished = false

        init(path: String) { self.path = path }

        deinit { if fd >= 0 { close(fd) } }

        func next() async throws -> ByteBuffer? {
            if finished { return nil }
            if fd < 0 {
                fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SwiftletError.last("open \(path)") }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: FileChunks.chunkSize)
            let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FileChunks.chunkSize) { raw in
                while true {
                    let count = pread(fd, raw.baseAddress, FileChunks.chunkSize, offset)
                    if count >= 0 { return count }
                    if errno != EINTR { throw SwiftletError.last("read \(path)") }
                }
            }
            offset += off_t(count)
            if count == 0 {
                finished = true
                close(fd)
                fd = -1
                return nil
            }
            return buffer
        }
    }
}
