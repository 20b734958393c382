import HostSystem
import Foundation
import Images
#if canImport(Glibc)
import Glibc
#endif

/// A sparse ext4 filesystem image: a microVM container's writable disk (its overlayfs
/// `upper/` and `work/` directories) and the format of named volumes. Created with
/// `mkfs.ext4` (e2fsprogs) on a sparse file, so an image costs only the blocks written
/// (a few MiB of metadata when new); lazy inode-table and journal initialisation keep
/// creation at a few milliseconds whatever the size.
enum Ext4Image {
    /// Size of a container's writable disk and of a new volume: an upper bound on what
    /// the container can write, not space taken (the file is sparse).
    static let defaultSize: Int64 = 10 << 30

    /// Creates the image at `path` with `directories` (mode 0755, root-owned) at its root.
    /// With `emptyRoot`, `lost+found` is removed so the filesystem's root starts empty,
    /// as a Docker volume does.
    static func create(_ path: String, size: Int64 = defaultSize, directories: [String] = [], emptyRoot: Bool = false) throws {
        let fd = try sys("create \(path)") { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("truncate \(path)") { ftruncate(fd, off_t(size)) }
        var arguments = ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1"]
        let template = NSTemporaryDirectory() + "swiftlet-ext4-\(getpid())-\(UUID().uuidString)"
        if !directories.isEmpty {
            try sys("mkdir \(template)") { mkdir(template, 0o755) }
            for directory in directories {
                try sys("mkdir \(template)/\(directory)") { mkdir("\(template)/\(directory)", 0o755) }
            }
            arguments += ["-d", template]
        }
        defer { try? FileManager.default.removeItem(atPath: template) }
        do {
            try runTool("mkfs.ext4", arguments + [path], what: "creating the ext4 image \(path)")
            if emptyRoot { try runTool("debugfs", ["-w", "-R", "rmdir lost+found", path], what: "emptying \(path)") }
        } catch {
            unlink(path)
            throw SwiftletError("\(error)")
        }
    }
}
