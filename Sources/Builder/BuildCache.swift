import Foundation
import HostSystem
import Images

/// The build cache (Docker's classic builder's: a step is reused when its parent, its
/// expanded instruction and, for COPY/ADD, its sources' content are the same): a file per
/// ``CacheKey`` under `<root>/build-cache/`, holding the id of the image the step made.
/// An entry whose image was removed since (by `rmi` or `prune`) is a miss.
struct BuildCache {
    let directory: String
    let images: ImageStore

    init(root: String, images: ImageStore) throws {
        directory = "\(root)/build-cache"
        self.images = images
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw SwiftletError("cannot create \(directory)", errno: errno)
        }
    }

    /// The image a step with `key` made before, if it is still in the store.
    func lookup(_ key: String) -> ResolvedImage? {
        guard let id = try? String(contentsOfFile: path(key), encoding: .utf8) else { return nil }
        return try? images.resolve(id.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Records that the step with `key` made `image`.
    func record(_ key: String, _ image: ResolvedImage) throws {
        try AtomicFile.write(Array(image.id.description.utf8), to: path(key))
    }

    private func path(_ key: String) -> String {
        "\(directory)/\(key.replacingOccurrences(of: "sha256:", with: ""))"
    }
}
