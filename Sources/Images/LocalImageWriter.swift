import HostSystem
import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Images made on this machine rather than pulled or loaded (`commit`, `import`, `build`):
/// a parent's layers plus at most one new layer, a config, and an OCI manifest
/// (image-spec manifest.md) over them, stored and named as one step. The new layer is
/// stored gzip-compressed (`gzip -n`, so equal content gives equal blobs); its diff id is
/// the uncompressed tar's digest.
extension ImageStore {
    /// A layer tar written by the caller, and its digest.
    public struct NewLayer: Sendable {
        public let tar: String
        public let diffID: Digest

        public init(tar: String, diffID: Digest) {
            self.tar = tar
            self.diffID = diffID
        }
    }

    /// Stores `config` as a new image on `parent`'s layers (none for an image from
    /// scratch) plus `layer`; `config.rootfs` is set here. Names it `reference` (taking the
    /// name from any image that had it), or leaves it dangling.
    public func storeImage(parent: ResolvedImage?, layer: NewLayer?, config: ImageConfig,
                           reference: ImageReference?, intermediate: Bool = false) throws -> ResolvedImage {
        let ingest = try Ingest(store: store)
        var layers = parent?.manifest.layers ?? []
        var config = config
        config.rootfs = ImageConfig.RootFS(type: "layers", diff_ids: (parent?.config.rootfs.diff_ids ?? []) + (layer.map { [$0.diffID] } ?? []))
        // A parent without history (or with less than a line per layer) gets lines for its
        // layers, so each history line that made a layer still pairs with its layer.
        if let history = config.history {
            let missing = config.rootfs.diff_ids.count - history.filter { $0.empty_layer != true }.count
            if missing > 0 {
                config.history = Array(repeating: ImageConfig.History(created: parent?.config.created, created_by: ""), count: missing) + history
            }
        }
        if let layer {
            let compressed = ingest.scratchPath()
            defer { unlink(compressed) }
            try compress(layer.tar, to: compressed)
            var status = stat()
            stat(compressed, &status)
            let digest = try ingest.addFile(compressed, what: "new layer")
            layers.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(status.st_size)))
        }
        let configData = encodeJSON(config)
        let configDigest = try ingest.add(configData, what: "image config")
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count)),
                                     layers: layers)
        let manifestData = encodeJSON(manifest)
        let manifestDigest = try ingest.add(manifestData, what: "manifest")
        let image = try ingest.resolveImage(manifest: Descriptor(mediaType: MediaType.ociManifest, digest: manifestDigest,
                                                                 size: Int64(manifestData.count)))
        try ingest.commit([(reference, image)])
        if intermediate && reference == nil {
            try setIntermediate(image, true)
        }
        if let parent, let layer {
            seedTree(of: image, from: parent, layer: layer)
        }
        return image
    }

    /// The index annotation of a build step's image: indexed, so later steps and their
    /// containers find it by id, but left out of `list`, as Docker hides intermediate images.
    static let intermediateKey = "io.swiftlet.image.intermediate"

    /// Marks a dangling image as a build's intermediate image, or (`false`) makes it an
    /// ordinary dangling image again (a build's untagged result).
    public func setIntermediate(_ image: ResolvedImage, _ intermediate: Bool) throws {
        try store.locked {
            var entries = try store.readIndex()
            for index in entries.indices where entries[index].digest == image.manifestDescriptor.digest
                && StoreIndex.referenceName(entries[index]) == nil {
                entries[index].annotations = intermediate ? [Self.intermediateKey: "true"] : nil
            }
            try store.writeIndex(entries)
        }
    }

    private func compress(_ tar: String, to output: String) throws {
        let out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw SwiftletError("cannot create \(output): \(errnoText())") }
        defer { close(out) }
        let gzip = try ChildProcess(["gzip", "-n", "-c", tar], stdout: .descriptor(out))
        guard gzip.wait() == 0 else {
            throw SwiftletError("cannot compress the new layer: gzip failed: \(gzip.output(2).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Makes the new image's unpacked tree from its parent's (a copy, reflinked where the
    /// file system can) plus the new layer, so a committed or built image runs without
    /// unpacking every layer again. Best effort: a failure leaves the tree to be unpacked
    /// from the layers when first needed.
    private func seedTree(of image: ResolvedImage, from parent: ResolvedImage, layer: NewLayer) {
        let parentTree = store.treePath(parent.id), target = store.treePath(image.id)
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: parentTree), !fileManager.fileExists(atPath: target) else { return }
        let temp = "\(store.tmpDirectory)/tree-\(getpid())-\(UUID().uuidString)"
        defer { try? fileManager.removeItem(atPath: temp) }
        do {
            try runTool("cp", ["-a", "--reflink=auto", parentTree, temp], what: "copying the parent image's tree")
            var unpacker = LayerUnpacker(root: temp)
            try unpacker.apply(TarReader(try FileSource(path: layer.tar), what: "new layer"), layer: "new layer")
            unpacker.finish()
            _ = rename(temp, target)
        } catch {
            return
        }
    }
}

/// `docker import`: a file-system tar (plain, gzip or zstd) as a one-layer image with an
/// empty runtime config (before `changes`), its history entry's comment naming the source
/// as dockerd does (`Imported from -` for standard input).
extension ImageStore {
    public func importFilesystem(from path: String, source: String, reference: ImageReference?, message: String?,
                                 changes: (inout ImageConfig.Runtime) throws -> Void = { _ in }) throws -> ResolvedImage {
        let ingest = try Ingest(store: store)
        let layer = ingest.scratchPath()
        defer { unlink(layer) }
        // A pipe (standard input) is read once into a file: compression is detected from
        // its first bytes, and the decompressor then reads it from the start.
        var status = stat()
        var file = path
        if stat(path, &status) == 0 && status.st_mode & S_IFMT != S_IFREG {
            file = ingest.scratchPath()
            try copy(try FileSource(path: path), toFile: file)
        }
        defer { if file != path { unlink(file) } }
        var hasher = DigestHasher()
        var size = 0
        try copy(try DecompressingSource.open(file, what: source), toFile: layer) {
            hasher.update($0)
            size += $0.count
        }
        guard size > 0 else { throw SwiftletError("\(source): the archive is empty", code: .invalidArgument) }
        // Every entry must parse and be safe to apply: unpacking it once checks that and
        // makes the image's tree.
        let tree = try ingest.scratchDirectory("import")
        var unpacker = LayerUnpacker(root: tree)
        try unpacker.apply(TarReader(try FileSource(path: layer), what: source), layer: source)
        unpacker.finish()
        var runtimeConfig = ImageConfig.Runtime()
        try changes(&runtimeConfig)
        let created = ImageStore.timestamp(Date())
        let comment = message ?? "Imported from \(source)"
        var config = ImageConfig(platform: .linuxAMD64, created: created, config: runtimeConfig, diffIDs: [],
                                 history: [ImageConfig.History(created: created, created_by: nil, comment: comment)])
        config.comment = comment
        let image = try storeImage(parent: nil, layer: NewLayer(tar: layer, diffID: hasher.finalize()), config: config, reference: reference)
        _ = rename(tree, store.treePath(image.id))
        return image
    }

    /// RFC 3339 with nanoseconds in UTC, as image configs record `created`.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
