import Foundation
import Images
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// Which running containers use a named volume, so that its ext4 image is never mounted by
/// two kernels at once: namespace containers share one host loop mount of it (made by the
/// first, removed by the last), and a microVM, whose guest kernel mounts the image itself,
/// needs it to itself. Each user is a file `<volume>/users/<container id>` holding its
/// isolation and the pid of its monitor; a user whose monitor is gone is stale and pruned.
/// Changes happen under an exclusive lock on `<volume>/lock`.
extension VolumeStore {
    /// Attaches every named volume of `config` for its monitor (this process); on failure
    /// nothing stays attached.
    func attach(_ config: ContainerConfig) throws {
        var attached: [String] = []
        do {
            for name in Self.volumeNames(config) {
                try withLock(name) { try attach(name, config: config) }
                attached.append(name)
            }
        } catch {
            for name in attached { try? withLock(name) { detach(name, config: config) } }
            throw error
        }
    }

    /// Detaches the named volumes of `config` (after its process ended).
    func detach(_ config: ContainerConfig) {
        for name in Self.volumeNames(config) {
            try? withLock(name) { detach(name, config: config) }
        }
    }

    static func volumeNames(_ config: ContainerConfig) -> [String] {
        var seen = Set<String>()
        return config.mounts.compactMap(\.volume).filter { seen.insert($0).inserted }
    }

    private func attach(_ name: String, config: ContainerConfig) throws {
        let volume = try inspect(name)
        let others = users(name).filter { $0.id != config.id }
        if config.isolation == .microvm || others.contains(where: { $0.isolation == .microvm }) {
            if let other = others.first {
                throw SwiftletError("volume \(name) is in use by running container \(other.id.prefix(12)); a volume used by a microVM container cannot be shared with another running container", code: .conflict)
            }
        }
        if config.isolation == .namespace && !Self.isMountPoint(volume.Mountpoint) {
            do {
                try runTool("mount", ["-t", "ext4", "-o", "loop", volume.Image, volume.Mountpoint], what: "mounting volume \(name)")
            } catch {
                throw SwiftletError("\(error)")
            }
        }
        let record = "\(config.isolation.rawValue) \(getpid())\n"
        try AtomicFile.write(Array(record.utf8), to: "\(directory)/\(name)/users/\(config.id)")
    }

    private func detach(_ name: String, config: ContainerConfig) {
        unlink("\(directory)/\(name)/users/\(config.id)")
        guard let volume = try? inspect(name), !users(name).contains(where: { $0.isolation == .namespace }),
              Self.isMountPoint(volume.Mountpoint) else { return }
        if umount2(volume.Mountpoint, 0) != 0 { _ = umount2(volume.Mountpoint, Int32(MNT_DETACH)) }
    }

    /// The live users of a volume; stale records are removed.
    private func users(_ name: String) -> [(id: String, isolation: Isolation)] {
        let folder = "\(directory)/\(name)/users"
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return ids.compactMap { id in
            let path = "\(folder)/\(id)"
            let fields = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: " ")
            guard fields.count == 2, let isolation = Isolation(rawValue: String(fields[0])),
                  let pid = pid_t(fields[1].trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(pid, 0) == 0 || errno == EPERM else {
                unlink(path)
                return nil
            }
            return (id, isolation)
        }
    }

    private func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let path = "\(directory)/\(name)/lock"
        let fd = try sys("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(path)") { flock(fd, LOCK_EX) }
        return try body()
    }
}
