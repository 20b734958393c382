import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One line of `docker history` (Engine API `GET /images/{name}/history`): an entry of
/// the config's `history` (config.md), newest first, with the size of the layer it made
/// (0 for an `empty_layer` entry) and, on the newest line, the image's id and names.
public struct ImageHistoryEntry: Sendable {
    /// The image id on the newest line; nil (`<missing>`) on the others.
    public let id: Digest?
    public let created: Date?
    public let createdBy: String
    public let tags: [String]
    /// The layer's uncompressed size, as Docker shows it.
    public let size: Int64
    public let comment: String
}

extension ImageStore {
    /// The history of `name`, newest first. An image without `history` gets one line per
    /// layer, as Docker shows it.
    public func history(_ name: String) throws -> [ImageHistoryEntry] {
        let (entries, image) = try find(name)
        var layers = image.manifest.layers.makeIterator()
        let recorded = image.config.history ?? image.manifest.layers.map { _ in ImageConfig.History(created: image.config.created, created_by: "") }
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        var lines: [ImageHistoryEntry] = []
        for item in recorded {
            let layer = item.empty_layer == true ? nil : layers.next()
            let created = item.created.flatMap { parser.date(from: $0) ?? plain.date(from: $0) }
            lines.append(ImageHistoryEntry(id: nil, created: created, createdBy: item.created_by ?? "", tags: [],
                                           size: layer.map(uncompressedSize) ?? 0, comment: item.comment ?? ""))
        }
        guard let newest = lines.popLast() else { return [] }
        lines.append(ImageHistoryEntry(id: image.id, created: newest.created, createdBy: newest.createdBy,
                                       tags: entries.compactMap(StoreIndex.referenceName), size: newest.size, comment: newest.comment))
        return lines.reversed()
    }

    /// A layer's uncompressed size: a gzip member's ISIZE trailer (the size modulo 2³²,
    /// exact below 4 GiB), else the blob's size.
    private func uncompressedSize(_ layer: Descriptor) -> Int64 {
        guard layer.mediaType.hasSuffix("gzip") else { return layer.size }
        let fd = open(store.blobPath(layer.digest), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return layer.size }
        defer { close(fd) }
        var trailer = [UInt8](repeating: 0, count: 4)
        guard layer.size >= 18, pread(fd, &trailer, 4, off_t(layer.size - 4)) == 4 else { return layer.size }
        return Int64(trailer.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) })
    }
}
