import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Applies image layers, in order, to a directory (OCI image-spec layer.md, "Applying
/// Changesets"): regular files, directories, symbolic and hard links, device nodes and
/// FIFOs with their mode, ownership (when running as root), xattrs and timestamps; whiteouts
/// `.wh.NAME` delete NAME from lower layers and `.wh..wh..opq` empties its directory of
/// lower-layer content. Entries are refused, with an error naming them, when they would
/// land outside the root: absolute paths, `..` components, or a write, hard link or
/// whiteout through a symbolic link.
struct LayerUnpacker {
    /// Absolute path of the directory being built.
    let root: String
    private let isRoot = geteuid() == 0
    /// Relative paths written by the layer being applied (for opaque whiteouts).
    private var thisLayer: Set<String> = []
    /// Directories known to be real directories (not links) inside the root.
    private var checkedDirectories: Set<String> = []
    /// Directory times are set last: creating entries inside a directory changes its mtime.
    private var directoryTimes: [String: timespec] = [:]
    /// Owner of every entry instead of the archive's (`docker cp` into a container without -a).
    var owner: (uid: UInt32, gid: UInt32)?
    /// Whether `.wh.` entries are whiteouts (a layer) or ordinary names (a plain archive:
    /// `docker cp`, ADD, a build context).
    var whiteouts = true

    init(root: String) {
        self.root = root
    }

    /// Applies one layer's tar stream.
    mutating func apply(_ reader: TarReader, layer: String) throws {
        thisLayer = []
        while let entry = try reader.next() {
            do {
                try apply(entry, reader: reader)
            } catch {
                throw SwiftletError.wrap(error, "\(layer): entry '\(entry.path)'")
            }
        }
    }

    /// Sets the deferred directory times; call after the last layer.
    func finish() {
        for (path, time) in directoryTimes {
            setTimes(path, time)
        }
    }

    private mutating func apply(_ entry: TarEntry, reader: TarReader) throws {
        let components = try Self.components(of: entry.path)
        guard let name = components.last else { // the root itself: "./"
            if entry.kind == .directory { try setMetadata(entry, path: root) }
            return
        }
        let parent = Array(components.dropLast())
        let parentPath = try ensureDirectory(parent)
        if whiteouts && name == ".wh..wh..opq" {
            try removeLowerContent(of: parentPath, relative: parent.joined(separator: "/"))
            return
        }
        if whiteouts && name.hasPrefix(".wh.") {
            let target = String(name.dropFirst(4))
            guard !target.isEmpty, target != ".", target != ".." else {
                throw SwiftletError("malformed whiteout name '\(name)'")
            }
            try removeIfPresent("\(parentPath)/\(target)")
            return
        }
        let relative = components.joined(separator: "/")
        let path = "\(parentPath)/\(name)"
        thisLayer.insert(relative)
        var existing = stat()
        let exists = lstat(path, &existing) == 0
        if exists && !(entry.kind == .directory && (existing.st_mode & S_IFMT) == S_IFDIR) {
            try removeIfPresent(path)
        }
        switch entry.kind {
        case .directory:
            if !exists || (existing.st_mode & S_IFMT) != S_IFDIR {
                try check(mkdir(path, 0o700), "mkdir")
            }
            checkedDirectories.insert(path)
        case .file:
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SwiftletError("cannot create file: \(errnoText())") }
            defer { close(fd) }
            try reader.readContent { bytes in try writeAll(fd, bytes, path: path) }
        case .symbolicLink:
            try check(symlink(entry.linkTarget, path), "symlink")
        case .hardLink:
            let targetComponents = try Self.components(of: entry.linkTarget)
            guard !targetComponents.isEmpty else { throw SwiftletError("hard link to the image root") }
            let target = "\(try ensureDirectory(Array(targetComponents.dropLast()), create: false))/\(targetComponents.last!)"
            var info = stat()
            guard lstat(target, &info) == 0 else {
                throw SwiftletError("hard link target '\(entry.linkTarget)' does not exist")
            }
            guard (info.st_mode & S_IFMT) != S_IFDIR else {
                throw SwiftletError("hard link target '\(entry.linkTarget)' is a directory")
            }
            try check(linkat(AT_FDCWD, target, AT_FDCWD, path, 0), "link")
            return // a hard link shares its target's metadata
        case .characterDevice, .blockDevice, .fifo:
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : entry.kind == .blockDevice ? S_IFBLK : S_IFCHR
            let device = Self.makeDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
            try check(mknod(path, type | mode_t(entry.mode & 0o777), device), "mknod")
        }
        try setMetadata(entry, path: path)
    }

    private mutating func setMetadata(_ entry: TarEntry, path: String) throws {
        if isRoot {
            try check(lchown(path, owner?.uid ?? entry.uid, owner?.gid ?? entry.gid), "lchown")
        }
        for (name, value) in entry.xattrs {
            let result = value.withUnsafeBytes { linuxSetXattr(path, name, $0.baseAddress, $0.count, 0) }
            if result != 0 && errno != ENOTSUP && !(errno == EPERM && !isRoot) {
                throw SwiftletError("cannot set xattr \(name): \(errnoText())")
            }
        }
        if entry.kind == .symbolicLink {
            setTimes(path, entry.modified)
            return
        }
        try check(chmod(path, mode_t(entry.mode & 0o7777)), "chmod")
        if entry.kind == .directory {
            directoryTimes[path] = entry.modified
        } else {
            setTimes(path, entry.modified)
        }
    }

    /// Splits an entry name into components, refusing absolute paths, `..`, and NUL
    /// bytes (a pax name may hold them; the system calls would see the name cut there,
    /// so `..\0x` would pass the `..` check here and be `..` to the kernel).
    static func components(of name: String) throws -> [String] {
        if name.hasPrefix("/") {
            throw SwiftletError("absolute path '\(name)' is not allowed in a layer")
        }
        if name.utf8.contains(0) {
            throw SwiftletError("path '\(name.replacingOccurrences(of: "\0", with: "\\0"))' contains a NUL byte")
        }
        let parts = name.split(separator: "/").map(String.init).filter { $0 != "." }
        if parts.contains("..") {
            throw SwiftletError("path '\(name)' contains '..' and could escape the image root")
        }
        return parts
    }

    /// Returns the absolute path of the directory `components` under the root, creating
    /// missing directories (when allowed) and refusing symbolic links and non-directories.
    private mutating func ensureDirectory(_ components: [String], create: Bool = true) throws -> String {
        var path = root
        for component in components {
            path += "/\(component)"
            if checkedDirectories.contains(path) { continue }
            var info = stat()
            if lstat(path, &info) != 0 {
                guard errno == ENOENT, create else {
                    throw SwiftletError("'\(path.dropFirst(root.count + 1))' does not exist")
                }
                try check(mkdir(path, 0o755), "mkdir")
            } else if (info.st_mode & S_IFMT) == S_IFLNK {
                throw SwiftletError("refusing to write through the symbolic link '\(path.dropFirst(root.count + 1))' (it could point outside the image root)")
            } else if (info.st_mode & S_IFMT) != S_IFDIR {
                throw SwiftletError("'\(path.dropFirst(root.count + 1))' is not a directory")
            }
            checkedDirectories.insert(path)
        }
        return path
    }

    /// Removes a path (recursively, never following links) if it exists.
    private mutating func removeIfPresent(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            checkedDirectories = checkedDirectories.filter { $0 != path && !$0.hasPrefix(path + "/") }
            directoryTimes = directoryTimes.filter { $0.key != path && !$0.key.hasPrefix(path + "/") }
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw SwiftletError("cannot remove \(path): \(error.localizedDescription)")
            }
        } else {
            try check(unlink(path), "unlink")
        }
    }

    /// Opaque whiteout: removes everything under `directory` not written by this layer.
    private mutating func removeLowerContent(of directory: String, relative: String) throws {
        let children: [String]
        do {
            children = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            return
        }
        for child in children {
            let childRelative = relative.isEmpty ? child : "\(relative)/\(child)"
            let childPath = "\(directory)/\(child)"
            if thisLayer.contains(childRelative) {
                var info = stat()
                if lstat(childPath, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                    try removeLowerContent(of: childPath, relative: childRelative)
                }
            } else {
                try removeIfPresent(childPath)
            }
        }
    }

    /// glibc's `makedev` (a macro Swift cannot import).
    static func makeDevice(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t((major & 0xFFF) << 8 | (major & ~0xFFF) << 32 | (minor & 0xFF) | (minor & ~0xFF) << 12)
    }

    private func setTimes(_ path: String, _ time: timespec) {
        let times = [time, time]
        _ = utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW)
    }

    private func check(_ result: Int32, _ call: String) throws {
        if result != 0 {
            throw SwiftletError("\(call) failed: \(errnoText())")
        }
    }
}

/// `lsetxattr(2)` from glibc; `<sys/xattr.h>` is not part of the Glibc module Swift imports.
@_silgen_name("lsetxattr")
private func linuxSetXattr(
    _ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32
) -> Int32
