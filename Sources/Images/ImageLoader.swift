import HostSystem
import Foundation

/// One image a load or pull put into the store: its name, if any (the layout's
/// `org.opencontainers.image.ref.name` annotation, a docker-archive `RepoTags` entry or the
/// pulled reference), and the verified image (manifest.md + config.md).
public struct LoadedImage: Sendable {
    /// The name it was given, nil for a dangling (unnamed) image.
    public let reference: ImageReference?
    public let image: ResolvedImage

    package init(reference: ImageReference?, image: ResolvedImage) {
        self.reference = reference
        self.image = image
    }
}

/// `swiftlet image load`: imports OCI image layouts (image-layout.md; a directory or a tar
/// of one, optionally gzip-compressed) and docker-archive tarballs (the `docker save`
/// format: `manifest.json` listing each image's config file, `RepoTags` and layer tars).
/// Everything is verified (blob digests and sizes, layer diff ids, unsafe tar entries)
/// before the images are committed; any failure leaves the store unchanged.
extension ImageStore {
    public func load(from path: String, platform: Platform = .linuxAMD64) throws -> [LoadedImage] {
        let ingest = try Ingest(store: store)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SwiftletError("cannot load \(path): no such file or directory", code: .notFound)
        }
        var directory = path
        if !isDirectory.boolValue {
            directory = try ingest.scratchDirectory("archive")
            var unpacker = LayerUnpacker(root: directory)
            try unpacker.apply(TarReader(try DecompressingSource.open(path, what: path), what: path), layer: path)
        }
        let fileManager = FileManager.default
        let loaded: [LoadedImage]
        if fileManager.fileExists(atPath: "\(directory)/oci-layout") && fileManager.fileExists(atPath: "\(directory)/index.json") {
            loaded = try loadLayout(directory, ingest: ingest, platform: platform)
        } else if fileManager.fileExists(atPath: "\(directory)/manifest.json") {
            loaded = try loadDockerArchive(directory, ingest: ingest)
        } else {
            throw SwiftletError("\(path) is neither an OCI image layout (oci-layout + index.json) nor a docker-archive (manifest.json)")
        }
        for item in loaded {
            try LayerVerifier.verify(item.image, path: ingest.path(of:))
        }
        try ingest.commit(loaded.map { ($0.reference, $0.image) })
        return loaded
    }

    private func loadLayout(_ directory: String, ingest: Ingest, platform: Platform) throws -> [LoadedImage] {
        let layout = try decodeJSON(LayoutFile.self, from: try readFile("\(directory)/oci-layout"), what: "oci-layout file")
        guard layout.imageLayoutVersion.hasPrefix("1.") else {
            throw SwiftletError("unsupported OCI image layout version \(layout.imageLayoutVersion)")
        }
        let index = try decodeJSON(ImageIndex.self, from: try readFile("\(directory)/index.json"), what: "index.json")
        func stage(_ descriptor: Descriptor, _ what: String) throws {
            let file = "\(directory)/blobs/sha256/\(descriptor.digest.hex)"
            guard FileManager.default.fileExists(atPath: file) else {
                throw SwiftletError("\(what) \(descriptor.digest) is missing from the layout (blobs/sha256/\(descriptor.digest.hex))")
            }
            try ingest.addFile(file, expecting: descriptor.digest, size: descriptor.size, what: "\(what) \(descriptor.digest)")
        }
        var loaded: [LoadedImage] = []
        for entry in index.manifests {
            if let entryPlatform = entry.platform, !platform.accepts(entryPlatform) { continue }
            var manifest = entry
            if MediaType.indexes.contains(entry.mediaType) {
                try stage(entry, "image index")
                let nested = try decodeJSON(ImageIndex.self, from: try ingest.data(of: entry.digest, what: "index"), what: "image index \(entry.digest)")
                manifest = try nested.select(platform)
            } else if !MediaType.manifests.contains(entry.mediaType) {
                throw SwiftletError("index.json entry \(entry.digest) has unsupported media type '\(entry.mediaType)'")
            }
            try stage(manifest, "manifest")
            let parsed = try decodeJSON(ImageManifest.self, from: try ingest.data(of: manifest.digest, what: "manifest"), what: "manifest \(manifest.digest)")
            try parsed.validate()
            try stage(parsed.config, "config blob")
            for layer in parsed.layers { try stage(layer, "layer") }
            let name = entry.annotations?[Descriptor.containerdNameKey] ?? entry.annotations?[Descriptor.refNameKey]
            let reference = name.flatMap { try? ImageReference(parsing: $0) }
            manifest.platform = manifest.platform ?? entry.platform
            loaded.append(LoadedImage(reference: reference, image: try ingest.resolveImage(manifest: manifest)))
        }
        guard !loaded.isEmpty else { throw SwiftletError("the layout has no image for platform \(platform)") }
        return loaded
    }

    private func loadDockerArchive(_ directory: String, ingest: Ingest) throws -> [LoadedImage] {
        let entries = try decodeJSON([DockerArchiveEntry].self, from: try readFile("\(directory)/manifest.json"), what: "docker-archive manifest.json")
        func inside(_ name: String) throws -> String {
            let components = try LayerUnpacker.components(of: name)
            return ([directory] + components).joined(separator: "/")
        }
        var loaded: [LoadedImage] = []
        for entry in entries {
            let configPath = try inside(entry.Config)
            guard FileManager.default.fileExists(atPath: configPath) else {
                throw SwiftletError("docker-archive: config file \(entry.Config) is missing")
            }
            let configData = try readFile(configPath)
            let configDigest = try ingest.add(configData, what: "config \(entry.Config)")
            var layers: [Descriptor] = []
            for layer in entry.Layers {
                let file = try inside(layer)
                guard FileManager.default.fileExists(atPath: file) else {
                    throw SwiftletError("docker-archive: layer file \(layer) is missing")
                }
                let compression = try DecompressingSource.compression(ofFile: file)
                let mediaType = [.gzip: MediaType.ociLayerGzip, .zstd: MediaType.ociLayerZstd][compression] ?? MediaType.ociLayer
                let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int64) ?? 0
                layers.append(Descriptor(mediaType: mediaType, digest: try ingest.addFile(file, what: "layer \(layer)"), size: size))
            }
            let config = Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count))
            let manifestData = encodeJSON(ImageManifest(config: config, layers: layers))
            let manifest = Descriptor(mediaType: MediaType.ociManifest, digest: try ingest.add(manifestData, what: "manifest"),
                                      size: Int64(manifestData.count))
            let image = try ingest.resolveImage(manifest: manifest)
            let tags = entry.RepoTags ?? []
            if tags.isEmpty {
                loaded.append(LoadedImage(reference: nil, image: image))
            }
            for tag in tags {
                loaded.append(LoadedImage(reference: try ImageReference(parsing: tag), image: image))
            }
        }
        guard !loaded.isEmpty else { throw SwiftletError("docker-archive manifest.json lists no images") }
        return loaded
    }
}

/// The `oci-layout` file of an OCI image layout (image-layout.md).
struct LayoutFile: Codable {
    var imageLayoutVersion: String
}

/// One element of a docker-archive's `manifest.json` (Docker's image save format).
struct DockerArchiveEntry: Codable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}

/// Reads a whole file with a clear error.
func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SwiftletError("cannot read \(path)")
    }
    return data
}
