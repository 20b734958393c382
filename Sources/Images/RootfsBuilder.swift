import HostSystem
import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Rootfs images: each image's layers flattened once (whiteouts applied, unsafe entries
/// refused, every layer's diff id checked) into `trees/<image id>/` — the tree a namespace
/// container uses — and that tree turned into a read-only EROFS block image,
/// `rootfs/<image id>.erofs`, shared by every microVM container of the image.
///
/// Why EROFS (`mkfs.erofs`, erofs-utils 1.5) rather than ext4 (`mke2fs -d`): the image is
/// the read-only lower layer under each container's writable ext4 disk and overlayfs, and
/// EROFS is a filesystem designed for exactly that: it needs no size estimate (`mke2fs`
/// must be given a size up front and a wrong guess fails or wastes space), has no journal,
/// free-space maps or reserved blocks, packs small files and tails into the inode blocks
/// (so images are markedly smaller than ext4's), cannot be mounted read-write by mistake,
/// and the guest kernel has the erofs module. Blocks are left uncompressed so guest reads
/// need no decompression; modification times are kept exactly (`--preserve-mtime`) and
/// the filesystem UUID is the image id's first 128 bits.
extension ImageStore {
    /// The flattened root tree of an image, built on first use.
    public func unpackedTree(_ name: String) throws -> String {
        try unpackedTree(of: try resolve(name))
    }

    /// The EROFS rootfs image of an image, built on first use.
    public func rootfsImage(_ name: String) throws -> String {
        let image = try resolve(name)
        let target = store.rootfsPath(image.id)
        if FileManager.default.fileExists(atPath: target) { return target }
        let tree = try unpackedTree(of: image)
        let temp = "\(store.tmpDirectory)/rootfs-\(getpid())-\(UUID().uuidString).erofs"
        defer { unlink(temp) }
        let hex = Array(image.id.hex)
        let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
        try runTool("mkfs.erofs", ["--quiet", "--preserve-mtime", "-U", uuid, temp, tree], what: "building the rootfs image of \(image.id)")
        let fd = open(temp, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
        guard rename(temp, target) == 0 else {
            throw SwiftletError("cannot move the rootfs image into \(target): \(errnoText())")
        }
        return target
    }

    func unpackedTree(of image: ResolvedImage) throws -> String {
        let target = store.treePath(image.id)
        if FileManager.default.fileExists(atPath: target) { return target }
        let temp = "\(store.tmpDirectory)/tree-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        guard mkdir(temp, 0o755) == 0 else { throw SwiftletError("cannot create \(temp): \(errnoText())") }
        var unpacker = LayerUnpacker(root: temp)
        for (index, layer) in image.manifest.layers.enumerated() {
            let what = "layer \(index + 1) (\(layer.digest))"
            guard store.hasBlob(layer.digest) else { throw SwiftletError("\(what) is missing from the store") }
            let source = HashingSource(try DecompressingSource.open(store.blobPath(layer.digest), what: what))
            try unpacker.apply(TarReader(source, what: what), layer: what)
            let diffID = try source.finishDigest()
            guard diffID == image.config.rootfs.diff_ids[index] else {
                throw SwiftletError("\(what): uncompressed content hashes to \(diffID), but the config's diff_id is \(image.config.rootfs.diff_ids[index])")
            }
        }
        unpacker.finish()
        if rename(temp, target) != 0 && !FileManager.default.fileExists(atPath: target) {
            throw SwiftletError("cannot move the unpacked tree into \(target): \(errnoText())")
        }
        return target
    }
}

/// Runs a tool from PATH and waits; a non-zero exit becomes an error quoting its stderr.
public func runTool(_ tool: String, _ arguments: [String], what: String) throws {
    let result: ChildProcess.Result
    do {
        result = try ChildProcess.run([tool] + arguments)
    } catch {
        throw SwiftletError("\(what): cannot start \(tool): \(error)")
    }
    guard result.status == 0 else {
        let text = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        throw SwiftletError("\(what): \(tool) failed (status \(result.status)): \(text)")
    }
}
