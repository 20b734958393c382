import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The image store on disk, itself an OCI image layout (image-layout.md) under
/// `<root>/images`: `oci-layout`, `index.json` naming every image (the
/// `org.opencontainers.image.ref.name` annotation holds the full reference; an entry without
/// one is a dangling image) and `blobs/sha256/<hex>`, one file per blob however many images
/// use it. Beside it: `tmp/` for staged operations, `trees/<image id>/` for flattened
/// root trees and `rootfs/<image id>.erofs` for rootfs images. Index changes and blob
/// commits happen under an exclusive `flock` on `lock`.
public final class ContentStore: Sendable {
    /// The state root (`/var/lib/swiftlet` by default).
    public let root: String
    /// `<root>/images`.
    public let directory: String

    public init(root: String) throws {
        self.root = root
        directory = (root as NSString).appendingPathComponent("images")
        for sub in ["", "blobs/sha256", "tmp", "trees", "rootfs"] {
            let path = sub.isEmpty ? directory : "\(directory)/\(sub)"
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw SwiftletError("cannot create the image store at \(path): \(error.localizedDescription)")
            }
        }
        let layoutFile = "\(directory)/oci-layout"
        if !FileManager.default.fileExists(atPath: layoutFile) {
            try AtomicFile.write(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layoutFile)
        }
    }

    /// The state root from `--root`, else `SWIFTLET_ROOT`, else `/var/lib/swiftlet`.
    public static func defaultRoot(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["SWIFTLET_ROOT"] ?? "/var/lib/swiftlet"
    }

    package func blobPath(_ digest: Digest) -> String { "\(directory)/blobs/sha256/\(digest.hex)" }
    func treePath(_ id: Digest) -> String { "\(directory)/trees/\(id.hex)" }
    func rootfsPath(_ id: Digest) -> String { "\(directory)/rootfs/\(id.hex).erofs" }
    var tmpDirectory: String { "\(directory)/tmp" }
    private var indexPath: String { "\(directory)/index.json" }

    func hasBlob(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: blobPath(digest))
    }

    /// Reads a stored blob (blobs were verified when they were written).
    package func readBlob(_ digest: Digest) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobPath(digest)) else {
            throw SwiftletError("blob \(digest) is missing from the store")
        }
        return data
    }

    /// The images in the store, in index order.
    func readIndex() throws -> [Descriptor] {
        guard let data = FileManager.default.contents(atPath: indexPath) else { return [] }
        return try decodeJSON(ImageIndex.self, from: data, what: "store index \(indexPath)").manifests
    }

    func writeIndex(_ entries: [Descriptor]) throws {
        try AtomicFile.write(Array(encodeJSON(ImageIndex(manifests: entries))), to: indexPath)
    }

    /// Runs `body` holding the store's exclusive lock.
    func locked<T>(_ body: () throws -> T) throws -> T {
        let path = "\(directory)/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SwiftletError("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SwiftletError("cannot lock \(path): \(errnoText())") }
        }
        return try body()
    }

    /// Moves a verified staged file into the blob directory (atomic rename; the same digest
    /// means the same bytes, so a concurrent writer of the same blob is harmless).
    func adoptBlob(_ digest: Digest, from path: String) throws {
        if hasBlob(digest) {
            unlink(path)
            return
        }
        guard rename(path, blobPath(digest)) == 0 else {
            throw SwiftletError("cannot move blob \(digest) into the store: \(errnoText())")
        }
    }

    /// Makes every adopted blob durable.
    func syncBlobs() {
        syncDirectory("\(directory)/blobs/sha256")
    }
}

