import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet image save`: writes images as an OCI image layout tar (image-layout.md):
/// `oci-layout`, `index.json` naming each image by its full reference
/// (`org.opencontainers.image.ref.name`), and each needed blob once under `blobs/sha256/`.
/// The archive is written to a temporary file and renamed into place when complete.
extension ImageStore {
    public func save(_ names: [String], to output: String) throws {
        guard !names.isEmpty else { throw SwiftletError("name at least one image to save") }
        var index: [Descriptor] = []
        var blobs: [Digest] = []
        var seen: Set<Digest> = []
        for name in names {
            let (entries, image) = try find(name)
            let requested = (try? ImageReference(parsing: name))?.description
            let chosen = entries.filter { requested == nil || StoreIndex.referenceName($0) == requested }
            index += chosen.isEmpty ? [image.manifestDescriptor] : chosen
            for digest in [image.manifestDescriptor.digest, image.id] + image.manifest.layers.map(\.digest)
            where seen.insert(digest).inserted {
                blobs.append(digest)
            }
        }
        let temp = "\(output).tmp-\(getpid())"
        defer { unlink(temp) }
        let writer = try TarWriter(path: temp)
        try writer.add(TarWriter.entry("oci-layout", kind: .file), content: Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try writer.add(TarWriter.entry("index.json", kind: .file), content: encodeJSON(ImageIndex(manifests: index)))
        for directory in ["blobs/", "blobs/sha256/"] {
            try writer.add(TarWriter.entry(directory, kind: .directory, mode: 0o755))
        }
        for digest in blobs {
            try writer.addFile(named: "blobs/sha256/\(digest.hex)", from: store.blobPath(digest))
        }
        try writer.finish()
        guard rename(temp, output) == 0 else { throw SwiftletError("cannot write \(output): \(errnoText())") }
    }
}
