import Foundation
import Testing
@testable import Images

/// Loading the locally built test images, and the rootfs built from them.
@Suite(.serialized) struct LoadTests {
    @Test func dockerArchiveAndOCILayoutGiveTheSameImageID() throws {
        let images = try TestImages.build()
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.path)
        let fromArchive = try store.load(from: "\(images)/busybox.docker.tar")
        let fromLayout = try store.load(from: "\(images)/busybox")
        let fromLayoutTar = try store.load(from: "\(images)/busybox.oci.tar")
        #expect(fromArchive.count == 1 && fromLayout.count == 1 && fromLayoutTar.count == 1)
        #expect(fromArchive[0].image.id == fromLayout[0].image.id)
        #expect(fromLayoutTar[0].image.manifestDescriptor.digest == fromLayout[0].image.manifestDescriptor.digest)
        #expect(fromLayout[0].reference?.description == "docker.io/swiftlet-test/busybox:latest")
        // The archive's manifest (uncompressed layer) lost its name to the layout's and is dangling.
        let summaries = try store.list()
        #expect(summaries.count == 2)
        #expect(Set(summaries.map(\.id)).count == 1)
        // Removing by id removes both manifests of that config.
        #expect(try store.remove([fromArchive[0].image.id.short]) == ["Deleted: \(fromArchive[0].image.id)"])
        #expect(try store.list().isEmpty)
        _ = try store.load(from: "\(images)/busybox.docker.tar")
        _ = try store.load(from: "\(images)/busybox")
        #expect(try store.prune().reclaimed > 0)
        #expect(try store.list().count == 1)
        #expect(try store.resolve("swiftlet-test/busybox").id == fromArchive[0].image.id)
    }

    @Test func debianLoadsFlattensAndBuildsAnEROFSRootfs() throws {
        let images = try TestImages.build()
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.path)
        let loaded = try store.load(from: "\(images)/debian")
        #expect(loaded.map { $0.reference?.tag } == ["base", "latest"])
        let base = loaded[0].image, latest = loaded[1].image
        #expect(latest.manifest.layers.count == 3)
        #expect(latest.manifest.layers[0].digest == base.manifest.layers[0].digest)
        #expect(latest.manifest.layers[1].mediaType == MediaType.ociLayerZstd)
        // Shared base layer stored once: blob files = distinct digests.
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(store.store.directory)/blobs/sha256")
        let distinct = Set([base, latest].flatMap { [$0.manifestDescriptor.digest, $0.id] + $0.manifest.layers.map(\.digest) })
        #expect(blobs.count == distinct.count)

        let tree = try store.unpackedTree("swiftlet-test/debian:latest")
        #expect(FileManager.default.fileExists(atPath: "\(tree)/usr/bin/hello"))
        #expect(!FileManager.default.fileExists(atPath: "\(tree)/etc/motd"))
        #expect(!FileManager.default.fileExists(atPath: "\(tree)/usr/share/doc/hello"))
        #expect(FileManager.default.fileExists(atPath: "\(tree)/usr/share/doc/bash"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(tree)/bin") == "usr/bin")

        let rootfs = try store.rootfsImage("swiftlet-test/debian:latest")
        #expect(rootfs.hasSuffix("\(latest.id.hex).erofs"))
        #expect(try store.rootfsImage(latest.id.description) == rootfs)
        let extracted = temp.sub("extracted")
        try Fixture.run(["fsck.erofs", "--extract=\(extracted)", rootfs])
        #expect(FileManager.default.fileExists(atPath: "\(extracted)/usr/bin/hello"))
        #expect(!FileManager.default.fileExists(atPath: "\(extracted)/etc/motd"))

        // Removing one name keeps the shared layer; removing the other frees everything.
        _ = try store.remove(["swiftlet-test/debian:latest"])
        #expect(FileManager.default.fileExists(atPath: store.store.blobPath(base.manifest.layers[0].digest)))
        #expect(!FileManager.default.fileExists(atPath: rootfs))
        _ = try store.remove(["swiftlet-test/debian:base"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.store.directory)/blobs/sha256").isEmpty)
    }

    @Test func concurrentLoadsOfTheSameBlobsAgree() throws {
        let images = try TestImages.build()
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.path)
        let failures = NSLock()
        nonisolated(unsafe) var errors: [any Error] = []
        let root = temp.path
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            do {
                _ = try ImageStore(root: root).load(from: "\(images)/busybox\(index % 2 == 0 ? "" : ".oci.tar")")
            } catch {
                failures.withLock { errors.append(error) }
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        let image = try store.resolve("swiftlet-test/busybox")
        for blob in [image.manifestDescriptor, image.manifest.config] + image.manifest.layers {
            let data = try readFile(store.store.blobPath(blob.digest))
            #expect(Digest.of(data) == blob.digest)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.store.tmpDirectory).isEmpty)
    }

    @Test func saveWritesALayoutThatLoadsBackIdentically() throws {
        let images = try TestImages.build()
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let first = try ImageStore(root: temp.sub("a"))
        let loaded = try first.load(from: "\(images)/busybox")
        try first.tag("swiftlet-test/busybox", as: "127.0.0.1:5000/copy:v1")
        try first.save(["swiftlet-test/busybox", "127.0.0.1:5000/copy:v1"], to: temp.sub("saved.tar"))
        let second = try ImageStore(root: temp.sub("b"))
        let reloaded = try second.load(from: temp.sub("saved.tar"))
        #expect(Set(reloaded.compactMap { $0.reference?.description })
            == ["docker.io/swiftlet-test/busybox:latest", "127.0.0.1:5000/copy:v1"])
        #expect(reloaded.allSatisfy { $0.image.manifestDescriptor.digest == loaded[0].image.manifestDescriptor.digest })
        #expect(try second.inspect("127.0.0.1:5000/copy:v1").contains(loaded[0].image.id.description))
    }
}
