#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Crypto
import Foundation
import HostSystem

/// The content of COPY/ADD sources as the build cache compares it (issue #14's cache rule):
/// each file's path, type, permission bits, owner, bytes and symlink target, never its
/// modification time; directories taken with everything under them in lexical order.
public struct SourceDigest: Sendable, Equatable {
    /// `sha256:<hex>` over every source and everything under it, names included.
    public let digest: String
    /// What Docker's history text names the sources by: `file:<hex>` for one file,
    /// `dir:<hex>` for one directory, `multi:<hex>` for several.
    public let historyLabel: String

    /// Digests `sources` (paths relative to `root`, `/`-separated, already resolved from any
    /// wildcard) in the order given.
    public init(root: String, sources: [String]) throws {
        var overall = SHA256()
        var labels: [String] = []
        for source in sources {
            let status = try FileStatus(path: root + "/" + source)
            var own = SHA256()
            try Self.hash(root: root, relative: source, name: ".", status: status, into: &own)
            let hex = Self.hex(own.finalize())
            labels.append((status.isDirectory ? "dir:" : "file:") + hex)
            overall.update(data: Data("\(source.utf8.count):\(source)=\(hex)\n".utf8))
        }
        digest = "sha256:" + Self.hex(overall.finalize())
        if labels.count == 1 {
            historyLabel = labels[0]
        } else {
            historyLabel = "multi:" + Self.hex(SHA256.hash(data: Data(labels.joined(separator: ",").utf8)))
        }
    }

    /// One record per file: `name type mode uid gid` then the content digest (regular
    /// files), the link target (symlinks) or nothing; directories recurse.
    private static func hash(root: String, relative: String, name: String, status: FileStatus, into hasher: inout SHA256) throws {
        let path = root + "/" + relative
        var record = "\(name.utf8.count):\(name) \(status.type >> 12) \(String(status.permissions, radix: 8)) \(status.uid) \(status.gid)"
        if status.isRegular {
            record += " " + (try contentDigest(path))
        } else if status.isSymbolicLink {
            let target = try linkTarget(path)
            record += " \(target.utf8.count):\(target)"
        }
        hasher.update(data: Data((record + "\n").utf8))
        guard status.isDirectory else { return }
        let children: [String]
        do {
            children = try FileManager.default.contentsOfDirectory(atPath: path).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw SwiftletError("read \(path): \(error.localizedDescription)", code: .io)
        }
        for child in children {
            let childRelative = relative + "/" + child
            let childName = name == "." ? child : name + "/" + child
            try hash(root: root, relative: childRelative, name: childName, status: try FileStatus(path: root + "/" + childRelative), into: &hasher)
        }
    }

    private static func contentDigest(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SwiftletError("open \(path): cannot read it", code: .io)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
        } catch {
            throw SwiftletError("read \(path): \(error.localizedDescription)", code: .io)
        }
        return hex(hasher.finalize())
    }

    private static func linkTarget(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw SwiftletError.last("readlink \(path)") }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

/// The key a build step is cached under (issue #14's cache rule): the parent image, the
/// instruction after expansion — its history text, which for RUN includes the build
/// arguments in effect — and for COPY/ADD the sources' ``SourceDigest``. Equal keys mean
/// the step's result can be reused.
public enum CacheKey {
    /// `sha256:<hex>` of the three, each length-prefixed so no two inputs run together.
    public static func compute(parent: String, createdBy: String, sourceDigest: String?) -> String {
        var hasher = SHA256()
        for part in [parent, createdBy, sourceDigest ?? ""] {
            hasher.update(data: Data("\(part.utf8.count):\(part)\n".utf8))
        }
        return "sha256:" + SourceDigest.hex(hasher.finalize())
    }
}
