import HostSystem
import Foundation

/// A single-platform image whose manifest and config have been read and checked: the
/// manifest (OCI image-spec manifest.md / Docker v2 schema 2), its config (config.md), and
/// the guarantee that every blob it references is present. Its id is the config digest, as
/// in Docker, so the same content has the same id whichever format it came in.
public struct ResolvedImage: Sendable {
    public let manifestDescriptor: Descriptor
    public let manifest: ImageManifest
    public let config: ImageConfig
    public let configData: Data

    /// The image id: the digest of its config.
    public var id: Digest { manifest.config.digest }

    /// Total size of the config and layer blobs.
    public var size: Int64 { manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size } }

    init(manifest descriptor: Descriptor, read: (Digest, String) throws -> Data, has: (Digest) -> Bool) throws {
        manifestDescriptor = descriptor
        let manifestData = try read(descriptor.digest, "manifest")
        manifest = try decodeJSON(ImageManifest.self, from: manifestData, what: "manifest \(descriptor.digest)")
        try manifest.validate()
        configData = try read(manifest.config.digest, "config blob")
        config = try decodeJSON(ImageConfig.self, from: configData, what: "image config \(manifest.config.digest)")
        guard config.rootfs.diff_ids.count == manifest.layers.count else {
            throw SwiftletError("manifest \(descriptor.digest) lists \(manifest.layers.count) layers but its config has \(config.rootfs.diff_ids.count) diff ids")
        }
        for layer in manifest.layers where !has(layer.digest) {
            throw SwiftletError("manifest \(descriptor.digest) references layer \(layer.digest), which is missing")
        }
    }

    /// Resolves an image already in the store.
    static func stored(_ descriptor: Descriptor, in store: ContentStore) throws -> ResolvedImage {
        try ResolvedImage(manifest: descriptor) { digest, _ in try store.readBlob(digest) } has: { store.hasBlob($0) }
    }
}
