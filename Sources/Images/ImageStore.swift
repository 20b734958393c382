import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One image of the store as `swiftlet image ls` shows it: an entry of the store's OCI
/// layout index.json (image-layout.md) with its names, its id (the config digest, config.md)
/// and its manifest digest (manifest.md).
public struct ImageSummary: Sendable {
    /// The image id (config digest).
    public let id: Digest
    /// The manifest digest.
    public let digest: Digest
    /// Full references naming the image; empty for a dangling image.
    public let references: [String]
    /// Config plus layer blob sizes (compressed, as stored).
    public let size: Int64
    /// The config's `created` time, if any.
    public let created: String?
}

/// The user-facing image operations over a `ContentStore` (an OCI image layout,
/// image-layout.md): list, inspect, tag, remove, prune (garbage collection of unreferenced
/// blobs, trees and rootfs images). Loading, pulling, pushing, saving and rootfs building
/// are in extensions beside this file.
public final class ImageStore: Sendable {
    public let store: ContentStore

    public init(root: String) throws {
        store = try ContentStore(root: root)
    }

    /// Every image, named ones first, in index order; a build's intermediate images are left out.
    public func list() throws -> [ImageSummary] {
        var byDigest: [Digest: [String]] = [:]
        var order: [Descriptor] = []
        for entry in try store.readIndex() where entry.annotations?[Self.intermediateKey] == nil {
            if byDigest[entry.digest] == nil { order.append(entry) }
            byDigest[entry.digest, default: []] += StoreIndex.referenceName(entry).map { [$0] } ?? []
        }
        return try order.map { entry in
            let image = try ResolvedImage.stored(entry, in: store)
            return ImageSummary(id: image.id, digest: entry.digest, references: byDigest[entry.digest] ?? [],
                                size: image.size, created: image.config.created)
        }
    }

    /// Finds an image by reference (`busybox`, `host:5000/x:tag`, `name@sha256:…`), by id
    /// (`sha256:…` or a unique hex prefix of at least 4 digits) or by manifest digest.
    public func resolve(_ name: String) throws -> ResolvedImage {
        try find(name).image
    }

    /// The index entries a name matches and the image they denote.
    func find(_ name: String) throws -> (entries: [Descriptor], image: ResolvedImage) {
        let entries = try store.readIndex()
        if let reference = try? ImageReference(parsing: name) {
            let named = entries.filter { entry in
                guard let refName = StoreIndex.referenceName(entry) else { return false }
                if refName == reference.description { return true }
                // `repo@sha256:…` also finds a tagged image of that repository with that manifest.
                guard let digest = reference.digest, reference.tag == nil else { return false }
                return entry.digest == digest && refName.hasPrefix(reference.repository + ":")
            }
            if let first = named.first {
                return (named, try ResolvedImage.stored(first, in: store))
            }
        }
        let hex = name.hasPrefix("sha256:") ? String(name.dropFirst(7)) : name
        if hex.count >= 4, hex.allSatisfy(\.isHexDigit) {
            var matches: [Digest: (entries: [Descriptor], image: ResolvedImage)] = [:]
            for entry in entries {
                let image = try ResolvedImage.stored(entry, in: store)
                if image.id.hex.hasPrefix(hex) || entry.digest.hex.hasPrefix(hex) {
                    matches[image.id, default: ([], image)].entries.append(entry)
                }
            }
            if matches.count == 1, let match = matches.first?.value { return match }
            if matches.count > 1 { throw SwiftletError("'\(name)' matches more than one image; give more digits") }
        }
        throw SwiftletError("no such image: \(name)", code: .notFound)
    }

    /// A pretty-printed JSON document: id, digest, references, platform, layers and config.
    public func inspect(_ name: String) throws -> String {
        let (entries, image) = try find(name)
        let config = (try? JSONSerialization.jsonObject(with: image.configData)) ?? [:]
        let document: [String: Any] = [
            "Id": image.id.description,
            "Digest": image.manifestDescriptor.digest.description,
            "MediaType": image.manifest.mediaType ?? image.manifestDescriptor.mediaType,
            "RepoTags": entries.compactMap(StoreIndex.referenceName),
            "Platform": image.config.platform.description,
            "Size": image.size,
            "Layers": image.manifest.layers.map { ["Digest": $0.digest.description, "MediaType": $0.mediaType, "Size": $0.size] },
            "DiffIDs": image.config.rootfs.diff_ids.map(\.description),
            "Config": config,
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// Gives an existing image another name.
    public func tag(_ source: String, as target: String) throws {
        let reference = try ImageReference(parsing: target)
        guard reference.digest == nil else { throw SwiftletError("cannot tag with a digest reference '\(target)'") }
        try store.locked {
            let image = try resolve(source)
            let entries = StoreIndex.naming(try store.readIndex(), reference: reference, manifest: image.manifestDescriptor)
            try store.writeIndex(entries)
        }
    }

    /// Removes names (a reference removes that name; an id or digest removes the image and
    /// all its names), then garbage-collects. Returns the removed names and ids.
    public func remove(_ names: [String]) throws -> [String] {
        try store.locked {
            var entries = try store.readIndex()
            var removed: [String] = []
            for name in names {
                let (matched, image) = try find(name)
                if let reference = try? ImageReference(parsing: name),
                   matched.contains(where: { StoreIndex.referenceName($0) == reference.description }) {
                    entries = StoreIndex.removing(entries, reference: reference.description)
                    removed.append("Untagged: \(reference)")
                    // Like `docker rmi`: removing an image's last name removes the image.
                    if !entries.contains(where: { $0.digest == image.manifestDescriptor.digest && StoreIndex.referenceName($0) != nil }) {
                        entries.removeAll { $0.digest == image.manifestDescriptor.digest }
                        removed.append("Deleted: \(image.id)")
                    }
                } else {
                    // An id can stand for several manifests of the same config (e.g. a
                    // docker-archive and an OCI layout of one image): remove them all.
                    let digests = Set(matched.map(\.digest))
                    entries.removeAll { digests.contains($0.digest) }
                    removed.append("Deleted: \(image.id)")
                }
            }
            // Written once, after every name resolved: a bad name changes nothing.
            try store.writeIndex(entries)
            try collectGarbage(entries)
            return removed
        }
    }

    /// Removes dangling images (with `all`, every image) except those `inUse` (by
    /// containers) and the build steps images kept are built on, then every blob, tree and rootfs image nothing references, and staging
    /// directories older than an hour (`docker image prune [-a]`).
    @discardableResult
    public func prune(all: Bool = false, inUse: Set<Digest> = []) throws -> PruneResult {
        try store.locked {
            let entries = try store.readIndex().map { ($0, try? ResolvedImage.stored($0, in: store)) }
            func keptByItself(_ entry: Descriptor, _ image: ResolvedImage?) -> Bool {
                // A named entry that does not resolve is left for `rmi` to deal with.
                guard let image else { return StoreIndex.referenceName(entry) != nil }
                return inUse.contains(image.id) || (StoreIndex.referenceName(entry) != nil && !all)
            }
            // A build's intermediate image stays while an image kept is built on it (its
            // layers and the instructions of its history begin with the intermediate's), as
            // Docker keeps parents; times are not compared (a step reused from the cache
            // keeps its first build's).
            let bases = entries.filter { keptByItself($0.0, $0.1) }.compactMap(\.1)
            func steps(_ image: ResolvedImage) -> [String] { (image.config.history ?? []).map { $0.created_by ?? "" } }
            func isParent(_ image: ResolvedImage) -> Bool {
                bases.contains {
                    $0.config.rootfs.diff_ids.starts(with: image.config.rootfs.diff_ids) && steps($0).starts(with: steps(image))
                }
            }
            var kept: [Descriptor] = [], result = PruneResult()
            for (entry, image) in entries {
                let name = StoreIndex.referenceName(entry)
                let intermediate = entry.annotations?[Self.intermediateKey] != nil
                if keptByItself(entry, image) || (intermediate && !all && image.map(isParent) == true) {
                    kept.append(entry)
                    continue
                }
                if let name { result.untagged.append(name) }
                if let image, !result.deleted.contains(image.id) { result.deleted.append(image.id) }
            }
            // An image still named by a kept entry is not deleted, only untagged.
            let keptIDs = Set(entries.filter { entry, _ in kept.contains(entry) }.compactMap { $0.1?.id })
            result.deleted.removeAll { keptIDs.contains($0) }
            try store.writeIndex(kept)
            result.reclaimed = try collectGarbage(kept)
            return result
        }
    }

    /// What `prune` removed: the names it took away, the images it deleted (dockerd's
    /// `untagged:` and `deleted:` lines) and the bytes it freed.
    public struct PruneResult: Sendable {
        public var untagged: [String] = []
        public var deleted: [Digest] = []
        public var reclaimed: Int64 = 0
    }

    /// Deletes what `entries` do not reach. Call with the store lock held.
    @discardableResult
    private func collectGarbage(_ entries: [Descriptor]) throws -> Int64 {
        var blobs: Set<String> = []
        var ids: Set<String> = []
        for entry in entries {
            let image = try ResolvedImage.stored(entry, in: store)
            blobs.insert(entry.digest.hex)
            blobs.insert(image.id.hex)
            ids.insert(image.id.hex)
            for layer in image.manifest.layers { blobs.insert(layer.digest.hex) }
        }
        var freed: Int64 = 0
        let manager = FileManager.default
        func sweep(_ directory: String, keep: (String) -> Bool) {
            for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !keep(name) {
                let path = "\(directory)/\(name)"
                freed += (try? manager.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
                try? manager.removeItem(atPath: path)
            }
        }
        sweep("\(store.directory)/blobs/sha256") { blobs.contains($0) }
        sweep("\(store.directory)/trees") { ids.contains($0) }
        sweep("\(store.directory)/rootfs") { ids.contains(String($0.prefix(64))) }
        let staleBefore = Date().addingTimeInterval(-3600)
        sweep(store.tmpDirectory) { name in
            let modified = try? manager.attributesOfItem(atPath: "\(store.tmpDirectory)/\(name)")[.modificationDate] as? Date
            return (modified ?? .distantPast) > staleBefore
        }
        return freed
    }
}
