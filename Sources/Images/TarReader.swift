import HostSystem
import Foundation

/// One member of a tar archive, as POSIX ustar, pax (extended headers, `SCHILY.xattr.*`) and
/// GNU (`L`/`K` long names) describe it. Layers are tar archives (OCI image-spec layer.md).
struct TarEntry {
    enum Kind: Equatable {
        case file, hardLink, symbolicLink, characterDevice, blockDevice, directory, fifo
    }

    var path: String
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var modified: timespec
    var linkTarget: String
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    var xattrs: [(name: String, value: [UInt8])]
}

/// Reads a tar stream entry by entry. After `next()` returns an entry, its content can be
/// read with `readContent` (or is skipped by the next call to `next()`).
final class TarReader {
    private let source: any ByteSource
    private let what: String
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)
    private var start = 0
    private var end = 0
    private var pendingContent: Int64 = 0
    private var pendingPadding = 0

    init(_ source: any ByteSource, what: String) {
        self.source = source
        self.what = what
    }

    /// The next entry, or nil at the end of the archive.
    func next() throws -> TarEntry? {
        // Separately: a size near Int64.max (base-256 or pax) plus its padding overflows.
        try skip(pendingContent)
        // The Docker CLI's build context (a Dockerfile appended by -f) can end right after
        // the last file's bytes, without padding or end blocks, and dockerd accepts it.
        try skip(Int64(pendingPadding), allowEnd: true)
        pendingContent = 0
        pendingPadding = 0
        var pax: [String: [UInt8]] = [:]
        var longName: String?
        var longLink: String?
        while true {
            guard let header = try readBlock(allowEnd: true) else { return nil }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try verifyChecksum(header)
            let type = header[156]
            let size = try number(header, 124, 12, "size")
            switch type {
            case UInt8(ascii: "x"):
                pax.merge(try parsePax(try readData(size)), uniquingKeysWith: { $1 })
                continue
            case UInt8(ascii: "g"):
                _ = try readData(size)
                continue
            case UInt8(ascii: "L"):
                longName = cString(try readData(size))
                continue
            case UInt8(ascii: "K"):
                longLink = cString(try readData(size))
                continue
            default:
                break
            }
            var entry = try makeEntry(header, type: type, size: size)
            if let longName { entry.path = longName }
            if let longLink { entry.linkTarget = longLink }
            try applyPax(pax, to: &entry)
            pendingContent = entry.size
            pendingPadding = Int((512 - entry.size % 512) % 512)
            return entry
        }
    }

    /// Streams the current entry's content to `body` in chunks.
    func readContent(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while pendingContent > 0 {
            if start == end { try fill(minimum: 1) }
            let count = min(end - start, Int(min(pendingContent, Int64(Int.max))))
            try buffer.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
                try body(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)]))
            }
            start += count
            pendingContent -= Int64(count)
        }
    }

    private func makeEntry(_ header: [UInt8], type: UInt8, size: Int64) throws -> TarEntry {
        var name = field(header, 0, 100)
        if header[257..<262].elementsEqual("ustar".utf8) {
            let prefix = field(header, 345, 155)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        let kind: TarEntry.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = name.hasSuffix("/") ? .directory : .file
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symbolicLink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            throw SwiftletError("\(what): entry '\(name)' has unsupported tar type '\(Character(Unicode.Scalar(type)))'")
        }
        return TarEntry(
            path: name, kind: kind,
            mode: UInt32(truncatingIfNeeded: try number(header, 100, 8, "mode")),
            uid: UInt32(truncatingIfNeeded: try number(header, 108, 8, "uid")),
            gid: UInt32(truncatingIfNeeded: try number(header, 116, 8, "gid")),
            size: size,
            modified: timespec(tv_sec: Int(try number(header, 136, 12, "mtime")), tv_nsec: 0),
            linkTarget: field(header, 157, 100),
            deviceMajor: UInt32(truncatingIfNeeded: try number(header, 329, 8, "devmajor")),
            deviceMinor: UInt32(truncatingIfNeeded: try number(header, 337, 8, "devminor")),
            xattrs: []
        )
    }

    private func applyPax(_ pax: [String: [UInt8]], to entry: inout TarEntry) throws {
        for (key, value) in pax {
            let text = String(decoding: value, as: UTF8.self)
            switch key {
            case "path": entry.path = text
            case "linkpath": entry.linkTarget = text
            case "size":
                guard let size = Int64(text), size >= 0 else { throw SwiftletError("\(what): bad pax size '\(text)'") }
                entry.size = size
            case "uid": entry.uid = UInt32(text) ?? entry.uid
            case "gid": entry.gid = UInt32(text) ?? entry.gid
            case "mtime":
                let parts = text.split(separator: ".", maxSplits: 1)
                if let seconds = Int(parts.first ?? "") {
                    let fraction = parts.count > 1 ? String(parts[1].prefix(9)) : ""
                    let nanos = Int(fraction.padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
                    entry.modified = timespec(tv_sec: seconds, tv_nsec: seconds < 0 ? 0 : nanos)
                }
            default:
                if key.hasPrefix("SCHILY.xattr.") {
                    entry.xattrs.append((String(key.dropFirst(13)), value))
                }
            }
        }
    }

    /// Parses pax records: "<length> <key>=<value>\n", values kept as raw bytes.
    private func parsePax(_ data: [UInt8]) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                  length > 0, length <= data.count - index, data[index + length - 1] == UInt8(ascii: "\n"),
                  let equals = data[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
            else {
                throw SwiftletError("\(what): malformed pax extended header")
            }
            result[String(decoding: data[(space + 1)..<equals], as: UTF8.self)] = Array(data[(equals + 1)..<(index + length - 1)])
            index += length
        }
        return result
    }

    private func verifyChecksum(_ header: [UInt8]) throws {
        var sum = 0
        for (index, byte) in header.enumerated() {
            sum += (148..<156).contains(index) ? 32 : Int(byte)
        }
        guard (try? number(header, 148, 8, "checksum")) == Int64(sum) else {
            throw SwiftletError("\(what): corrupt tar header (checksum mismatch); the archive is damaged or not a tar")
        }
    }

    /// An octal (or GNU base-256) numeric field.
    private func number(_ header: [UInt8], _ offset: Int, _ length: Int, _ name: String) throws -> Int64 {
        let bytes = header[offset..<(offset + length)]
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3F)
            for byte in bytes.dropFirst() {
                guard value < (Int64.max >> 8) else { throw SwiftletError("\(what): tar \(name) field overflows") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        for byte in bytes {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if value > 0 { break } else { continue }
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value < (Int64.max >> 3) else {
                throw SwiftletError("\(what): malformed tar \(name) field")
            }
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private func field(_ header: [UInt8], _ offset: Int, _ length: Int) -> String {
        cString(Array(header[offset..<(offset + length)]))
    }

    private func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }

    private func readData(_ size: Int64) throws -> [UInt8] {
        guard size <= 1 << 24 else { throw SwiftletError("\(what): tar metadata entry of \(size) bytes is too large") }
        var data = [UInt8]()
        data.reserveCapacity(Int(size))
        pendingContent = size
        try readContent { bytes in data.append(contentsOf: bytes) }
        try skip(Int64((512 - size % 512) % 512))
        return data
    }

    private func readBlock(allowEnd: Bool) throws -> [UInt8]? {
        if end - start < 512 {
            try fill(minimum: 512, allowEnd: allowEnd)
            if end - start < 512 { return nil }
        }
        let block = Array(buffer[start..<(start + 512)])
        start += 512
        return block
    }

    private func skip(_ count: Int64, allowEnd: Bool = false) throws {
        var left = count
        while left > 0 {
            if start == end {
                try fill(minimum: 1, allowEnd: allowEnd)
                if end == 0 { return }
            }
            let step = min(Int64(end - start), left)
            start += Int(step)
            left -= step
        }
    }

    private func fill(minimum: Int, allowEnd: Bool = false) throws {
        if start > 0 {
            buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
            end -= start
            start = 0
        }
        while end < minimum {
            let count = try buffer.withUnsafeMutableBytes { (bytes: UnsafeMutableRawBufferPointer) throws in
                try source.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]))
            }
            if count == 0 {
                if allowEnd && end == 0 { return }
                throw SwiftletError("\(what): unexpected end of tar archive (truncated)")
            }
            end += count
        }
    }
}
