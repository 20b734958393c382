import HostSystem
import ChildProcess
import Foundation
@testable import Images

/// A fresh temporary directory, removed by `cleanup()`.
final class TempDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "swiftlet-images-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func sub(_ name: String) -> String { "\(path)/\(name)" }
}

/// Builds tar layers and OCI layouts for tests.
enum Fixture {
    static func file(_ path: String, _ text: String = "", mode: UInt32 = 0o644) -> (TarEntry, Data) {
        (TarWriter.entry(path, kind: .file, mode: mode), Data(text.utf8))
    }

    static func directory(_ path: String, mode: UInt32 = 0o755) -> (TarEntry, Data) {
        (TarWriter.entry(path, kind: .directory, mode: mode), Data())
    }

    static func symlink(_ path: String, to target: String) -> (TarEntry, Data) {
        (TarWriter.entry(path, kind: .symbolicLink, mode: 0o777, link: target), Data())
    }

    static func hardLink(_ path: String, to target: String) -> (TarEntry, Data) {
        (TarWriter.entry(path, kind: .hardLink, link: target), Data())
    }

    /// An uncompressed tar of `entries`.
    static func tar(_ entries: [(TarEntry, Data)]) throws -> Data {
        let temp = NSTemporaryDirectory() + "fixture-\(UUID().uuidString).tar"
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let writer = try TarWriter(path: temp)
        for (entry, content) in entries { try writer.add(entry, content: content) }
        try writer.finish()
        return try readFile(temp)
    }

    static func gzip(_ data: Data) throws -> Data {
        try pipe(data, through: ["gzip", "-n", "-c"])
    }

    static func pipe(_ data: Data, through command: [String]) throws -> Data {
        try run(command, stdin: [UInt8](data))
    }

    /// Runs `command` with `stdin`; its stdout, or an error unless it exits 0.
    @discardableResult
    static func run(_ command: [String], stdin: [UInt8] = []) throws -> Data {
        let child = try ChildProcess(command, stdin: .bytes(stdin))
        guard child.wait() == 0 else { throw SwiftletError("\(command) failed: \(child.output(2))") }
        return Data(child.outputBytes(1))
    }

    /// Writes an OCI layout holding one image made of `layers` (uncompressed tars, stored
    /// gzip-compressed unless `compress` is false). `diffIDs` overrides the config's.
    @discardableResult
    static func layout(at path: String, reference: String = "test/image:latest", layers: [Data], compress: Bool = true,
                       diffIDs: [Digest]? = nil) throws -> (manifest: Digest, config: Digest) {
        try FileManager.default.createDirectory(atPath: "\(path)/blobs/sha256", withIntermediateDirectories: true)
        func blob(_ data: Data) throws -> Digest {
            let digest = Digest.of(data)
            try data.write(to: URL(fileURLWithPath: "\(path)/blobs/sha256/\(digest.hex)"))
            return digest
        }
        var descriptors: [Descriptor] = []
        for layer in layers {
            let stored = compress ? try gzip(layer) : layer
            descriptors.append(Descriptor(mediaType: compress ? MediaType.ociLayerGzip : MediaType.ociLayer,
                                          digest: try blob(stored), size: Int64(stored.count)))
        }
        let ids = diffIDs ?? layers.map { Digest.of($0) }
        let configJSON = #"{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["#
            + ids.map { "\"\($0)\"" }.joined(separator: ",") + "]}}"
        let configData = Data(configJSON.utf8)
        let config = Descriptor(mediaType: MediaType.ociConfig, digest: try blob(configData), size: Int64(configData.count))
        let manifestData = encodeJSON(ImageManifest(config: config, layers: descriptors))
        let manifest = Descriptor(mediaType: MediaType.ociManifest, digest: try blob(manifestData), size: Int64(manifestData.count),
                                  annotations: [Descriptor.refNameKey: reference])
        try encodeJSON(ImageIndex(manifests: [manifest])).write(to: URL(fileURLWithPath: "\(path)/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(path)/oci-layout"))
        return (manifest.digest, config.digest)
    }

    /// Every file under the store with its size and, for small files, its content: equal
    /// snapshots mean the store is unchanged.
    static func snapshot(_ store: ImageStore) -> [String: String] {
        var result: [String: String] = [:]
        let root = store.store.directory
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            if relative == "lock" { continue }
            let path = "\(root)/\(relative)"
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let small = size < 4096 ? (FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "") : ""
            result[relative] = "\(size) \(small)"
        }
        return result
    }
}

/// The locally built test images (scripts/test-images/build), built on first use.
enum TestImages {
    static let directory: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.appendingPathComponent("scripts/test-images/out").path
    }()

    static func build() throws -> String {
        let script = URL(fileURLWithPath: directory).deletingLastPathComponent().appendingPathComponent("build").path
        try Fixture.run([script])
        return directory
    }

    /// The `swiftlet` executable of this checkout's debug build.
    static let swiftlet = URL(fileURLWithPath: directory).appendingPathComponent("../../../.build/debug/swiftlet").standardized.path
}
