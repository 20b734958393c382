import HostSystem
import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stream of bytes read in chunks: a file, the output of a decompressor, or a hashing
/// wrapper around either.
protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Called after the consumer saw the end of the data it needed; reports late failures
    /// (a decompressor's exit status).
    func finish() throws
}

/// Reads a file descriptor it owns.
final class FileSource: ByteSource {
    private let fd: Int32
    private let name: String

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        name = path
        guard fd >= 0 else { throw SwiftletError("cannot open \(path): \(errnoText())") }
    }

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SwiftletError("cannot read \(name): \(errnoText())") }
        }
    }

    func finish() throws {}
}

/// The decompressed content of a layer blob, through `gzip -dc` or `zstd -dc` (compression
/// is recognised by its magic bytes, so mislabelled media types still work). A corrupt or
/// truncated stream makes `read` or `finish` throw with the decompressor's message.
final class DecompressingSource: ByteSource {
    private let process: ChildProcess
    private let output: FileSource
    private let what: String
    private let tool: String

    enum Compression: String {
        case none, gzip, zstd
    }

    /// Detects the compression of a file from its first bytes.
    static func compression(ofFile path: String) throws -> Compression {
        let source = try FileSource(path: path)
        var magic = [UInt8](repeating: 0, count: 4)
        let count = try magic.withUnsafeMutableBytes { (buffer: UnsafeMutableRawBufferPointer) throws in
            try source.read(into: buffer)
        }
        if count >= 2 && magic[0] == 0x1F && magic[1] == 0x8B { return .gzip }
        if count == 4 && magic == [0x28, 0xB5, 0x2F, 0xFD] { return .zstd }
        return .none
    }

    /// Opens `path`, decompressing when needed.
    static func open(_ path: String, what: String) throws -> any ByteSource {
        let compression = try compression(ofFile: path)
        if compression == .none { return try FileSource(path: path) }
        return try DecompressingSource(path: path, tool: compression.rawValue, what: what)
    }

    private init(path: String, tool: String, what: String) throws {
        self.what = what
        self.tool = tool
        let input = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SwiftletError("cannot open \(path): \(errnoText())") }
        defer { close(input) }
        var pipe: [Int32] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw SwiftletError("cannot create a pipe for \(tool): \(errnoText())") }
        _ = fcntl(pipe[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipe[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipe[1]) }
        do {
            process = try ChildProcess([tool, "-dc"], stdin: .descriptor(input), stdout: .descriptor(pipe[1]))
        } catch {
            close(pipe[0])
            throw SwiftletError("cannot start \(tool) to decompress \(what): \(error)")
        }
        output = FileSource(fd: pipe[0], name: "\(tool) output")
    }

    deinit {
        _ = process.waitKilling(after: 0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try output.read(into: buffer)
        if count == 0 { try finish() }
        return count
    }

    func finish() throws {
        // Drain what is left (tar padding after the end-of-archive blocks) so the tool exits.
        var scratch = [UInt8](repeating: 0, count: 65536)
        while try scratch.withUnsafeMutableBytes({ (buffer: UnsafeMutableRawBufferPointer) throws in
            try output.read(into: buffer)
        }) > 0 {}
        let status = process.wait() ?? 255
        guard status == 0 else {
            let text = process.output(2).trimmingCharacters(in: .whitespacesAndNewlines)
            throw SwiftletError("\(what) is not a valid \(tool) stream (truncated or corrupt): \(text.isEmpty ? "\(tool) exited with status \(status)" : text)")
        }
    }
}

/// Passes bytes through while hashing them (a layer's uncompressed digest is its diff id).
final class HashingSource: ByteSource {
    private let inner: any ByteSource
    private var hasher = DigestHasher()

    init(_ inner: any ByteSource) {
        self.inner = inner
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try inner.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }

    /// Reads the rest of the stream, finishes the inner source and returns the digest of everything.
    func finishDigest() throws -> Digest {
        var scratch = [UInt8](repeating: 0, count: 65536)
        while try scratch.withUnsafeMutableBytes({ (buffer: UnsafeMutableRawBufferPointer) throws in
            try read(into: buffer)
        }) > 0 {}
        try inner.finish()
        return hasher.finalize()
    }

    func finish() throws {
        try inner.finish()
    }
}
