import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a POSIX tar (ustar headers, with a pax extended header when a name or link target
/// does not fit) to a file: what `image save` produces and what tests build layers with.
final class TarWriter {
    private let fd: Int32
    private let path: String
    private var hasher = DigestHasher()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SwiftletError("cannot create \(path): \(errnoText())") }
    }

    deinit { close(fd) }

    /// Adds one entry. `content` is written for regular files only.
    func add(_ entry: TarEntry, content: Data = Data()) throws {
        let size = entry.kind == .file ? Int64(content.count) : 0
        try writeHeader(entry, size: size)
        try write(content)
        try pad(size)
    }

    /// Adds a regular file whose bytes come from a file on disk, with root ownership.
    func addFile(named name: String, from source: String, mode: UInt32 = 0o644) throws {
        try addFile(Self.entry(name, kind: .file, mode: mode), from: source)
    }

    /// Adds a regular file described by `entry` (name, mode, owner, time, xattrs) whose
    /// bytes come from `source`; the size is the file's.
    func addFile(_ entry: TarEntry, from source: String) throws {
        // Opened without following a link and checked on the descriptor: a file swapped for
        // a link or a FIFO since it was listed (a running container's) is refused, not read.
        let fd = open(source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SwiftletError("cannot read \(source): \(errnoText())") }
        let input = FileSource(fd: fd, name: source)
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw SwiftletError("\(source) is no longer a regular file")
        }
        let size = Int64(status.st_size)
        try writeHeader(entry, size: size)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var copied: Int64 = 0
        while copied < size {
            let count = try chunk.withUnsafeMutableBytes { try input.read(into: $0) }
            if count == 0 { break }
            let kept = Int(min(Int64(count), size - copied))
            try chunk.withUnsafeBytes { try writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<kept])) }
            copied += Int64(kept)
        }
        guard copied == size else { throw SwiftletError("\(source) changed size while being archived") }
        try pad(size)
    }

    /// Writes the two zero blocks that end an archive and fsyncs; returns the digest of the
    /// whole archive (a layer's diff id).
    @discardableResult
    func finish() throws -> Digest {
        try write(Data(count: 1024))
        // Pipes and sockets (an export to standard output) cannot be synced: EINVAL.
        guard fsync(fd) == 0 || errno == EINVAL else { throw SwiftletError("cannot write \(path): \(errnoText())") }
        return hasher.finalize()
    }

    /// A plain entry with root ownership and a zero timestamp.
    static func entry(_ path: String, kind: TarEntry.Kind, mode: UInt32 = 0o644, link: String = "") -> TarEntry {
        TarEntry(path: path, kind: kind, mode: mode, uid: 0, gid: 0, size: 0, modified: timespec(tv_sec: 0, tv_nsec: 0),
                 linkTarget: link, deviceMajor: 0, deviceMinor: 0, xattrs: [])
    }

    private func writeHeader(_ entry: TarEntry, size: Int64) throws {
        // Directories are named with a trailing slash, as Docker's and GNU tar's archives name them.
        var entry = entry
        if entry.kind == .directory && !entry.path.hasSuffix("/") { entry.path += "/" }
        var pax: [(String, [UInt8])] = []
        if entry.path.utf8.count > 100 { pax.append(("path", Array(entry.path.utf8))) }
        if entry.linkTarget.utf8.count > 100 { pax.append(("linkpath", Array(entry.linkTarget.utf8))) }
        // Values beyond the ustar fields' octal digits.
        if entry.uid > 0o7777777 { pax.append(("uid", Array(String(entry.uid).utf8))) }
        if entry.gid > 0o7777777 { pax.append(("gid", Array(String(entry.gid).utf8))) }
        if size > 0o77777777777 { pax.append(("size", Array(String(size).utf8))) }
        for (name, value) in entry.xattrs { pax.append(("SCHILY.xattr.\(name)", value)) }
        if !pax.isEmpty {
            var records = Data()
            for (key, value) in pax {
                let body = 1 + key.utf8.count + 1 + value.count + 1
                var length = body + String(body).count
                if String(length).count != String(body).count { length += 1 }
                records.append(Data("\(length) \(key)=".utf8))
                records.append(contentsOf: value)
                records.append(0x0A)
            }
            var header = Self.entry("PaxHeaders/\(entry.path.suffix(80))", kind: .file)
            header.size = Int64(records.count)
            try write(Self.header(header, type: UInt8(ascii: "x"), size: Int64(records.count)))
            try write(records)
            try pad(Int64(records.count))
        }
        let types: [TarEntry.Kind: UInt8] = [.file: 0x30, .hardLink: 0x31, .symbolicLink: 0x32, .characterDevice: 0x33,
                                             .blockDevice: 0x34, .directory: 0x35, .fifo: 0x36]
        try write(Self.header(entry, type: types[entry.kind] ?? 0x30, size: size))
    }

    private static func header(_ entry: TarEntry, type: UInt8, size: Int64) -> Data {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            for (index, byte) in text.utf8.prefix(length).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, _ offset: Int, _ length: Int) {
            put(String(String(max(value, 0), radix: 8).suffix(length - 1)).leftPadded(to: length - 1), offset, length - 1)
        }
        put(entry.path, 0, 100)
        octal(Int64(entry.mode), 100, 8)
        octal(Int64(entry.uid), 108, 8)
        octal(Int64(entry.gid), 116, 8)
        octal(size, 124, 12)
        octal(Int64(entry.modified.tv_sec), 136, 12)
        block[156] = type
        put(entry.linkTarget, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        octal(Int64(entry.deviceMajor), 329, 8)
        octal(Int64(entry.deviceMinor), 337, 8)
        for index in 148..<156 { block[index] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(String(sum, radix: 8).suffix(6)).leftPadded(to: 6), 148, 6)
        block[154] = 0
        return Data(block)
    }

    private func write(_ data: Data) throws {
        try data.withUnsafeBytes { try writeBytes($0) }
    }

    private func writeBytes(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        try writeAll(fd, bytes, path: path)
    }

    private func pad(_ size: Int64) throws {
        let padding = Int((512 - size % 512) % 512)
        if padding > 0 { try write(Data(count: padding)) }
    }
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
