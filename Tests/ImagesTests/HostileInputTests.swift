import HostSystem
import ChildProcess
import Foundation
import Testing
@testable import Images

/// Hostile or broken inputs: each load fails with a clear error and the store is unchanged.
@Suite struct HostileInputTests {
    /// Loads `layout` into a store that already holds one image; expects an error whose
    /// message contains `message`, and an unchanged store.
    func expectRefused(_ layout: String, _ message: String, temp: TempDirectory) throws {
        let store = try ImageStore(root: temp.sub("root"))
        let good = temp.sub("good")
        try Fixture.layout(at: good, reference: "good:1", layers: [try Fixture.tar([Fixture.file("ok", "fine")])])
        _ = try store.load(from: good)
        let before = Fixture.snapshot(store)
        #expect {
            _ = try store.load(from: layout)
        } throws: { error in
            let text = (error as? SwiftletError)?.message ?? "\(error)"
            let matches = text.contains(message)
            if !matches { Issue.record("unexpected message: \(text)") }
            return matches
        }
        #expect(Fixture.snapshot(store) == before)
    }

    @Test func dotDotEntries() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [try Fixture.tar([Fixture.file("ok"), Fixture.file("../../evil", "x")])])
        try expectRefused(temp.sub("bad"), "contains '..'", temp: temp)
    }

    @Test func absoluteEntries() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [try Fixture.tar([Fixture.file("/etc/evil", "x")])])
        try expectRefused(temp.sub("bad"), "absolute path", temp: temp)
    }

    @Test func symlinkEscapeAcrossLayers() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [
            try Fixture.tar([Fixture.symlink("etc", to: "/etc")]),
            try Fixture.tar([Fixture.file("etc/cron.d/evil", "* * * * * root sh")]),
        ])
        try expectRefused(temp.sub("bad"), "symbolic link 'etc'", temp: temp)
    }

    @Test func symlinkEscapeInOneLayer() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [
            try Fixture.tar([Fixture.symlink("up", to: "../../../.."), Fixture.file("up/tmp/evil", "x")]),
        ])
        try expectRefused(temp.sub("bad"), "symbolic link 'up'", temp: temp)
    }

    @Test func blobDigestMismatch() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let layer = try Fixture.tar([Fixture.file("a", "original")])
        try Fixture.layout(at: temp.sub("bad"), layers: [layer], compress: false)
        // Same size, different bytes, under the original digest's name.
        let path = "\(temp.sub("bad"))/blobs/sha256/\(Digest.of(layer).hex)"
        var tampered = layer
        tampered[512] ^= 0xFF
        try tampered.write(to: URL(fileURLWithPath: path))
        try expectRefused(temp.sub("bad"), "digest mismatch", temp: temp)
    }

    @Test func truncatedGzipLayer() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        var content = Data()
        for index in 0..<4000 { content.append(Data("line \(index) \(UUID())\n".utf8)) }
        let layer = try Fixture.tar([Fixture.file("big", String(decoding: content, as: UTF8.self))])
        let compressed = try Fixture.gzip(layer)
        let truncated = compressed.prefix(compressed.count / 2)
        // A consistent layout around the truncated blob: only decompression can notice.
        let bad = temp.sub("bad")
        try Fixture.layout(at: bad, layers: [layer])
        try FileManager.default.removeItem(atPath: bad)
        try FileManager.default.createDirectory(atPath: "\(bad)/blobs/sha256", withIntermediateDirectories: true)
        let layerDigest = Digest.of(truncated)
        try truncated.write(to: URL(fileURLWithPath: "\(bad)/blobs/sha256/\(layerDigest.hex)"))
        let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(Digest.of(layer))"]}}"#.utf8)
        try config.write(to: URL(fileURLWithPath: "\(bad)/blobs/sha256/\(Digest.of(config).hex)"))
        let manifest = encodeJSON(ImageManifest(
            config: Descriptor(mediaType: MediaType.ociConfig, digest: Digest.of(config), size: Int64(config.count)),
            layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: Int64(truncated.count))]))
        try manifest.write(to: URL(fileURLWithPath: "\(bad)/blobs/sha256/\(Digest.of(manifest).hex)"))
        let index = encodeJSON(ImageIndex(manifests: [Descriptor(mediaType: MediaType.ociManifest, digest: Digest.of(manifest),
                                                                 size: Int64(manifest.count))]))
        try index.write(to: URL(fileURLWithPath: "\(bad)/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(bad)/oci-layout"))
        try expectRefused(bad, "not a valid gzip stream", temp: temp)
    }

    @Test func manifestPointingAtMissingBlob() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let layer = try Fixture.tar([Fixture.file("a", "x")])
        try Fixture.layout(at: temp.sub("bad"), layers: [layer])
        let gz = try Fixture.gzip(layer)
        try FileManager.default.removeItem(atPath: "\(temp.sub("bad"))/blobs/sha256/\(Digest.of(gz).hex)")
        try expectRefused(temp.sub("bad"), "layer \(Digest.of(gz)) is missing", temp: temp)
    }

    @Test func diffIDMismatch() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [try Fixture.tar([Fixture.file("a", "x")])], diffIDs: [Digest.of(Data())])
        try expectRefused(temp.sub("bad"), "diff_id", temp: temp)
    }

    @Test func notAnArchive() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Data(repeating: 0x41, count: 2000).write(to: URL(fileURLWithPath: temp.sub("junk.tar")))
        try expectRefused(temp.sub("junk.tar"), "corrupt tar header", temp: temp)
    }

    @Test func removeWithAnUnknownNameChangesNothing() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.sub("root"))
        try Fixture.layout(at: temp.sub("good"), reference: "good:1", layers: [try Fixture.tar([Fixture.file("ok")])])
        _ = try store.load(from: temp.sub("good"))
        let before = Fixture.snapshot(store)
        #expect(throws: SwiftletError("no such image: missing:2", code: .notFound)) { try store.remove(["good:1", "missing:2"]) }
        #expect(throws: SwiftletError.self) { try store.tag("good:1", as: "Bad Name") }
        #expect(throws: SwiftletError.self) { try store.save(["missing:3"], to: temp.sub("out.tar")) }
        #expect(Fixture.snapshot(store) == before)
        #expect(!FileManager.default.fileExists(atPath: temp.sub("out.tar")))
    }

    @Test func cliReportsErrorAndExitsNonZero() throws {
        let binary = TestImages.swiftlet
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the swiftlet product first")
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        try Fixture.layout(at: temp.sub("bad"), layers: [try Fixture.tar([Fixture.file("../evil", "x")])])
        let result = try ChildProcess.run([binary, "image", "load", "--root", temp.sub("root"), "-i", temp.sub("bad")])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("swiftlet: ") && result.stderr.contains("'..'"))
    }
}
