import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One store-changing operation (a load or a pull). New blobs are written and verified in
/// a private directory under `tmp/`; only `commit` moves them into the store and names the
/// images in the index, under the store lock. An operation that fails before `commit`
/// leaves the store exactly as it was (its staging directory is removed).
package final class Ingest {
    package let store: ContentStore
    private let directory: String
    private var staged: [Digest: String] = [:]
    private var counter = 0

    package init(store: ContentStore) throws {
        self.store = store
        Self.removeAbandoned(in: store.tmpDirectory)
        directory = "\(store.tmpDirectory)/op-\(getpid())-\(UUID().uuidString)"
        guard mkdir(directory, 0o700) == 0 else {
            throw SwiftletError("cannot create \(directory): \(errnoText())")
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Removes the staging directories of operations whose process is gone (killed before
    /// it could clean up): `op-<pid>-…` where no process `pid` exists.
    private static func removeAbandoned(in tmp: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] where name.hasPrefix("op-") {
            guard let pid = name.split(separator: "-").dropFirst().first.flatMap({ pid_t($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: "\(tmp)/\(name)") }
        }
    }

    /// Whether a blob is already in the store or staged here.
    package func has(_ digest: Digest) -> Bool {
        staged[digest] != nil || store.hasBlob(digest)
    }

    /// The file holding a staged or stored blob.
    package func path(of digest: Digest) -> String? {
        if let path = staged[digest] { return path }
        return store.hasBlob(digest) ? store.blobPath(digest) : nil
    }

    /// The bytes of a staged or stored blob.
    package func data(of digest: Digest, what: String) throws -> Data {
        guard let path = path(of: digest), let data = FileManager.default.contents(atPath: path) else {
            throw SwiftletError("\(what) \(digest) is missing")
        }
        return data
    }

    /// A new empty directory inside the staging area (e.g. for an unpacked archive).
    package func scratchDirectory(_ name: String) throws -> String {
        let path = "\(directory)/\(name)"
        guard mkdir(path, 0o700) == 0 else { throw SwiftletError("cannot create \(path): \(errnoText())") }
        return path
    }

    /// A fresh path inside the staging area for a file to be staged with `stageFile`.
    package func scratchPath() -> String {
        counter += 1
        return "\(directory)/download-\(counter)"
    }

    /// Stages a file already in the staging area, in place, after verifying it; a file
    /// that does not verify is removed.
    package func stageFile(_ path: String, expecting digest: Digest, size: Int64, what: String) throws {
        var hasher = DigestHasher()
        var count: Int64 = 0
        do {
            let source = try FileSource(path: path)
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let read = try chunk.withUnsafeMutableBytes { buffer in try source.read(into: buffer) }
                if read == 0 { break }
                chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
                count += Int64(read)
            }
        }
        let actual = hasher.finalize()
        guard count == size, actual == digest else {
            unlink(path)
            throw SwiftletError(count != size ? "\(what): size mismatch: expected \(size) bytes, got \(count)"
                                           : "\(what): digest mismatch: expected \(digest), content hashes to \(actual)")
        }
        staged[digest] = path
    }

    /// A writer for a new staged blob; hand it back to `accept`.
    package func makeWriter() throws -> BlobWriter {
        counter += 1
        return try BlobWriter(path: "\(directory)/blob-\(counter)")
    }

    /// Verifies a finished writer against the expected digest and size and stages it.
    @discardableResult
    package func accept(_ writer: BlobWriter, expecting digest: Digest?, size: Int64?, what: String) throws -> Digest {
        let actual = try writer.finish(expecting: digest, size: size, what: what)
        if staged[actual] == nil {
            staged[actual] = writer.path
        } else {
            unlink(writer.path)
        }
        return actual
    }

    /// Stages bytes held in memory.
    @discardableResult
    package func add(_ data: Data, expecting digest: Digest? = nil, size: Int64? = nil, what: String) throws -> Digest {
        if let digest, has(digest), Digest.of(data) == digest { return digest }
        let writer = try makeWriter()
        try writer.write(data)
        return try accept(writer, expecting: digest, size: size, what: what)
    }

    /// Stages a copy of a file, verifying it on the way.
    @discardableResult
    package func addFile(_ path: String, expecting digest: Digest? = nil, size: Int64? = nil, what: String) throws -> Digest {
        if let digest, store.hasBlob(digest) || staged[digest] != nil { return digest }
        let source = try FileSource(path: path)
        let writer = try makeWriter()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in try source.read(into: buffer) }
            if count == 0 { break }
            try chunk.withUnsafeBytes { buffer in try writer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
        }
        return try accept(writer, expecting: digest, size: size, what: what)
    }

    /// Reads and checks a manifest and everything it references; returns the image.
    package func resolveImage(manifest descriptor: Descriptor) throws -> ResolvedImage {
        try ResolvedImage(manifest: descriptor) { digest, what in try self.data(of: digest, what: what) } has: { self.has($0) }
    }

    /// Moves the staged blobs into the store and names the images, atomically for readers
    /// of the index. An image with a reference takes that name from any image that had it.
    package func commit(_ images: [(reference: ImageReference?, image: ResolvedImage)]) throws {
        try store.locked {
            for (digest, path) in staged {
                try store.adoptBlob(digest, from: path)
            }
            store.syncBlobs()
            for (_, image) in images {
                let blobs = [image.manifestDescriptor, image.manifest.config] + image.manifest.layers
                for blob in blobs where !store.hasBlob(blob.digest) {
                    throw SwiftletError("blob \(blob.digest) was removed by a concurrent prune; run the command again")
                }
            }
            var entries = try store.readIndex()
            for (reference, image) in images {
                entries = StoreIndex.naming(entries, reference: reference, manifest: image.manifestDescriptor)
            }
            try store.writeIndex(entries)
        }
        staged = [:]
    }
}
