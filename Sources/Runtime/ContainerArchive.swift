import Foundation
import HostSystem
import Images
#if canImport(Glibc)
import Glibc
#endif

/// What the Engine API's `X-Docker-Container-Path-Stat` header carries about a path in a
/// container (moby's `container.PathStat`): `mode` is Go's `os.FileMode` (permission bits
/// plus type bits), which the docker CLI reads to tell a directory from a file.
public struct ContainerPathStat: Codable, Sendable, Equatable {
    public var name: String
    public var size: Int64
    public var mode: UInt32
    public var mtime: String
    public var linkTarget: String

    public var isDirectory: Bool { mode & (1 << 31) != 0 }
}

/// `docker cp` (Engine API `HEAD`/`GET`/`PUT /containers/{id}/archive`): files read from
/// and written into a container's file system, paths resolved as inside the container —
/// every symbolic link followed as if the container's root were `/` (moby's
/// FollowSymlinkInScope), so nothing resolves outside it. A running namespace container is
/// reached through its process's root; a stopped one through its overlay mounted here; a
/// running microVM container's files are its guest's and are refused.
extension Runtime {
    /// The path's metadata (HEAD).
    public func statPath(_ reference: String, path: String) throws -> ContainerPathStat {
        try withContainerRoot(reference, writable: false) { root, config in
            try Self.pathStat(try ScopedPath.resolve(path, in: root, followLast: false), name: path, container: config.id)
        }
    }

    /// A tar of `path` (its base name the top entry) written to `output` (GET).
    public func archivePath(_ reference: String, path: String, to output: String) throws -> ContainerPathStat {
        try withContainerRoot(reference, writable: false) { root, config in
            let resolved = try ScopedPath.resolve(path, in: root, followLast: false)
            let stat = try Self.pathStat(resolved, name: path, container: config.id)
            // The container's root itself is archived as its content (".").
            let atRoot = resolved == root
            let parent = atRoot ? root : (resolved as NSString).deletingLastPathComponent
            let base = atRoot ? "." : (resolved as NSString).lastPathComponent
            // "--": a file name is never an option, whatever the container named it.
            try runTool("tar", ["-C", parent, "--numeric-owner", "-cf", output, "--", base],
                        what: "archiving \(path) of container \(config.id)")
            return stat
        }
    }

    /// Unpacks the tar `archive` into the directory `path` (PUT); without `copyOwnership`
    /// the files belong to the container's root, as dockerd does without `copyUIDGID`.
    public func extractArchive(_ reference: String, archive: String, into path: String, copyOwnership: Bool) throws {
        try withContainerRoot(reference, writable: true) { root, config in
            let resolved = try ScopedPath.resolve(path, in: root, followLast: true)
            var status = Glibc.stat()
            guard lstat(resolved, &status) == 0 else {
                throw SwiftletError("Could not find the file \(path) in container \(config.id)", code: .notFound)
            }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw SwiftletError("extraction point is not a directory", code: .invalidArgument)
            }
            let owner = config.idMapping.map { (uid: $0.hostUID, gid: $0.hostGID) } ?? (uid: 0, gid: 0)
            try TarArchive.extract(archive, into: resolved, owner: copyOwnership ? nil : owner)
        }
    }

    private func withContainerRoot<T>(_ reference: String, writable: Bool, _ body: (String, ContainerConfig) throws -> T) throws -> T {
        let config = try containers.find(reference)
        let state = try refreshedState(config)
        if state.status == .running || state.status == .restarting {
            guard config.isolation == .namespace, let pid = state.pid else {
                throw SwiftletError("copying files to or from running microVM container \(config.id) is not supported yet: stop it first",
                                    code: .notImplemented)
            }
            // Frozen meanwhile, so the container cannot swap a checked directory for a
            // link while paths are resolved and used; and the pid must still be its own.
            let freeze = !state.isPaused
            if freeze { try Cgroup.locate(config.id).freeze() }
            defer { if freeze { try? Cgroup.locate(config.id).thaw() } }
            let cgroups = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
            guard cgroups.contains("/swiftlet/\(config.id)") else {
                throw SwiftletError("container \(config.id) is not running", code: .conflict)
            }
            return try body("/proc/\(pid)/root", config)
        }
        let filesystem = ContainerFilesystem(config: config, bundle: containers.bundle(config.id),
                                             imageTree: try ImageStore(root: root).unpackedTree(config.imageID))
        return writable ? try filesystem.withWritableTree { try body($0, config) } : try filesystem.withMergedTree { try body($0, config) }
    }

    /// `path`'s PathStat, or Docker's 404 when it does not exist.
    static func pathStat(_ path: String, name: String, container: String) throws -> ContainerPathStat {
        var status = Glibc.stat()
        guard lstat(path, &status) == 0 else {
            throw SwiftletError("Could not find the file \(name) in container \(container)", code: .notFound)
        }
        // A trailing slash names a directory, as lstat(2) would take it.
        if name.hasSuffix("/") && status.st_mode & S_IFMT != S_IFDIR {
            throw SwiftletError("lstat \(name): not a directory", code: .invalidArgument)
        }
        var mode = UInt32(status.st_mode & 0o777)
        let types: [UInt32: UInt32] = [S_IFDIR: 1 << 31, S_IFLNK: 1 << 27, S_IFIFO: 1 << 25, S_IFSOCK: 1 << 24,
                                       S_IFBLK: 1 << 26, S_IFCHR: 1 << 26 | 1 << 21]
        mode |= types[status.st_mode & S_IFMT] ?? 0
        if status.st_mode & S_ISUID != 0 { mode |= 1 << 23 }
        if status.st_mode & S_ISGID != 0 { mode |= 1 << 22 }
        if status.st_mode & S_ISVTX != 0 { mode |= 1 << 20 }
        let link = status.st_mode & S_IFMT == S_IFLNK ? (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "" : ""
        let date = Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec) + TimeInterval(status.st_mtim.tv_nsec) / 1e9)
        return ContainerPathStat(name: (name as NSString).lastPathComponent, size: Int64(status.st_size), mode: mode,
                                 mtime: ImageStore.timestamp(date), linkTarget: link)
    }
}

/// A path inside a container's or an image's root resolved from the host: components walked one by one,
/// `..` never above the root, symbolic links followed as the container would follow them
/// (absolute targets from its root), at most 40 of them (the kernel's limit).
public enum ScopedPath {
    public static func resolve(_ path: String, in root: String, followLast: Bool) throws -> String {
        var resolved: [String] = []
        var remaining = path.split(separator: "/").map(String.init)
        var links = 0
        while !remaining.isEmpty {
            let component = remaining.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            var status = stat()
            let isLast = remaining.isEmpty
            if lstat(candidate, &status) == 0, status.st_mode & S_IFMT == S_IFLNK, !isLast || followLast {
                links += 1
                guard links <= 40 else { throw SwiftletError("\(path): too many levels of symbolic links", code: .invalidArgument) }
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: candidate)
                if target.hasPrefix("/") { resolved = [] }
                remaining = target.split(separator: "/").map(String.init) + remaining
                continue
            }
            resolved.append(component)
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }
}
