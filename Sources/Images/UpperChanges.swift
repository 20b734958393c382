import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A container's changes as overlayfs records them in its upper directory, turned into what
/// `diff` lists and what `commit` stores: an OCI layer changeset (image-spec layer.md,
/// "Representing Changes"). An overlayfs whiteout (a 0/0 character device) becomes a
/// `.wh.NAME` entry, an opaque directory (`trusted.overlay.opaque` or, in a user namespace,
/// `user.overlay.opaque` = "y") a `.wh..wh..opq` entry inside it, as Docker's overlay2
/// driver writes them. Paths the runtime itself wrote into the upper directory (the /etc
/// files Docker bind-mounts) are left out, as Docker leaves its mounts out.
public struct UpperChanges {
    /// One line of `diff`: Docker's change kinds (0 modified, 1 added, 2 deleted).
    public struct Change: Equatable, Sendable {
        public enum Kind: Int, Sendable {
            case modified = 0, added = 1, deleted = 2

            /// `docker diff`'s letter.
            public var letter: String { ["C", "A", "D"][rawValue] }
        }

        /// Absolute path inside the container.
        public let path: String
        public let kind: Kind
    }

    /// The upper directory.
    public let upper: String
    /// Relative paths (no leading slash) the runtime wrote; the changeset leaves them out,
    /// with everything under them.
    public let excluded: Set<String>
    /// Subtracted from owners in the upper directory (a user-namespaced container's ids
    /// are shifted on the host).
    public let idShift: UInt32

    public init(upper: String, excluded: Set<String>, idShift: UInt32 = 0) {
        self.upper = upper
        self.excluded = excluded
        self.idShift = idShift
    }

    /// One entry of the upper directory, in walk order (parents first, names sorted).
    private struct Entry {
        let relative: String
        let status: stat
        var isWhiteout: Bool { status.st_mode & S_IFMT == S_IFCHR && status.st_rdev == 0 }
        var isDirectory: Bool { status.st_mode & S_IFMT == S_IFDIR }
    }

    /// The changes against `lower`, the image's tree, sorted by path as `docker diff` prints them.
    public func changes(lower: String) throws -> [Change] {
        var changes: [Change] = []
        for entry in try entries() {
            let path = "/" + entry.relative
            if entry.isWhiteout {
                changes.append(Change(path: path, kind: .deleted))
                continue
            }
            var lowerStatus = stat()
            let inLower = lstat("\(lower)/\(entry.relative)", &lowerStatus) == 0
            changes.append(Change(path: path, kind: inLower ? .modified : .added))
            if inLower && entry.isDirectory && isOpaque(entry.relative) {
                let kept = Set((try? FileManager.default.contentsOfDirectory(atPath: "\(upper)/\(entry.relative)")) ?? [])
                for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(lower)/\(entry.relative)")) ?? [] where !kept.contains(name) {
                    changes.append(Change(path: "\(path)/\(name)", kind: .deleted))
                }
            }
        }
        return changes.sorted { $0.path < $1.path }
    }

    /// Writes the changes as an uncompressed layer tar to `path`; returns its diff id.
    public func writeLayer(to path: String) throws -> Digest {
        let writer = try TarWriter(path: path)
        var linked: [String: String] = [:]  // "dev:ino" of a multiply-linked file → its first name
        for entry in try entries() {
            let source = "\(upper)/\(entry.relative)"
            if entry.isWhiteout {
                let parent = (entry.relative as NSString).deletingLastPathComponent
                let name = ".wh." + (entry.relative as NSString).lastPathComponent
                try writer.add(TarWriter.entry(parent.isEmpty ? name : "\(parent)/\(name)", kind: .file, mode: 0))
                continue
            }
            var tar = try tarEntry(entry, source: source)
            switch tar.kind {
            case .file where entry.status.st_nlink > 1:
                let key = "\(entry.status.st_dev):\(entry.status.st_ino)"
                if let first = linked[key] {
                    tar.kind = .hardLink
                    tar.linkTarget = first
                    try writer.add(tar)
                } else {
                    linked[key] = entry.relative
                    try writer.addFile(tar, from: source)
                }
            case .file:
                try writer.addFile(tar, from: source)
            default:
                try writer.add(tar)
            }
            if entry.isDirectory && isOpaque(entry.relative) {
                try writer.add(TarWriter.entry("\(entry.relative)/.wh..wh..opq", kind: .file, mode: 0))
            }
        }
        return try writer.finish()
    }

    /// The upper directory's entries minus the excluded paths, and minus directories that
    /// hold only excluded paths (the /etc the runtime created for its files).
    private func entries() throws -> [Entry] {
        var result: [Entry] = []
        func walk(_ relative: String) throws -> Bool {
            let directory = relative.isEmpty ? upper : "\(upper)/\(relative)"
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            } catch {
                throw SwiftletError("cannot read the container's changes in \(directory): \(error.localizedDescription)")
            }
            var keptAny = false
            for name in names {
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                if excluded.contains(child) { continue }
                var status = stat()
                guard lstat("\(upper)/\(child)", &status) == 0 else {
                    throw SwiftletError("cannot read \(upper)/\(child): \(errnoText())")
                }
                let entry = Entry(relative: child, status: status)
                result.append(entry)
                let index = result.count - 1
                if entry.isDirectory {
                    let holdsExcluded = excluded.contains { $0.hasPrefix(child + "/") }
                    if try !walk(child) && holdsExcluded && !isOpaque(child) {
                        result.remove(at: index)
                        continue
                    }
                }
                keptAny = true
            }
            return keptAny
        }
        _ = try walk("")
        return result
    }

    private func tarEntry(_ entry: Entry, source: String) throws -> TarEntry {
        let status = entry.status
        let kinds: [UInt32: TarEntry.Kind] = [S_IFREG: .file, S_IFDIR: .directory, S_IFLNK: .symbolicLink,
                                             S_IFCHR: .characterDevice, S_IFBLK: .blockDevice, S_IFIFO: .fifo]
        guard let kind = kinds[status.st_mode & S_IFMT] else {
            throw SwiftletError("\(source) is a socket, which a layer cannot hold")
        }
        var link = ""
        if kind == .symbolicLink {
            link = try FileManager.default.destinationOfSymbolicLink(atPath: source)
        }
        func unshifted(_ id: UInt32) -> UInt32 { id >= idShift ? id - idShift : id }
        let device = kind == .characterDevice || kind == .blockDevice ? UInt64(status.st_rdev) : 0
        return TarEntry(path: entry.relative, kind: kind, mode: status.st_mode & 0o7777, uid: unshifted(status.st_uid),
                        gid: unshifted(status.st_gid), size: 0, modified: status.st_mtim, linkTarget: link,
                        deviceMajor: UInt32(truncatingIfNeeded: ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF)),
                        deviceMinor: UInt32(truncatingIfNeeded: (device & 0xFF) | ((device >> 12) & ~0xFF)),
                        xattrs: capability(of: source).map { [("security.capability", $0)] } ?? [])
    }

    /// A file's `security.capability` xattr, the one xattr Docker's layers carry.
    private func capability(of path: String) -> [UInt8]? {
        var value = [UInt8](repeating: 0, count: 256)
        let count = linuxGetXattr(path, "security.capability", &value, value.count)
        return count > 0 ? Array(value[0..<count]) : nil
    }

    private func isOpaque(_ relative: String) -> Bool {
        var value = [UInt8](repeating: 0, count: 4)
        for name in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            let count = linuxGetXattr("\(upper)/\(relative)", name, &value, value.count)
            if count == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }
}

/// `lgetxattr(2)` from glibc; `<sys/xattr.h>` is not part of the Glibc module Swift imports.
@_silgen_name("lgetxattr")
private func linuxGetXattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int
