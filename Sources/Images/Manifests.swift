import HostSystem
import Foundation

/// A content descriptor (OCI image-spec descriptor.md; Docker v2 schema 2 uses the same
/// shape): what a blob is, its digest and size, and optional platform and annotations.
public struct Descriptor: Hashable, Codable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }

    /// The annotation an OCI image layout's index.json names an image with (annotations.md).
    static let refNameKey = "org.opencontainers.image.ref.name"
    /// The annotation containerd writes the full image name into.
    static let containerdNameKey = "io.containerd.image.name"
}

/// An OCI image index (image-index.md) or a Docker manifest list: manifests per platform.
public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]

    public init(manifests: [Descriptor]) {
        schemaVersion = 2
        mediaType = MediaType.ociIndex
        self.manifests = manifests
    }

    /// Picks the manifest for `platform`: the first entry whose platform matches; entries
    /// without a platform are accepted only when they are the single manifest.
    public func select(_ platform: Platform) throws -> Descriptor {
        let candidates = manifests.filter { MediaType.manifests.contains($0.mediaType) }
        if let match = candidates.first(where: { $0.platform.map(platform.accepts) ?? false }) {
            return match
        }
        if candidates.count == 1, candidates[0].platform == nil {
            return candidates[0]
        }
        let offered = candidates.compactMap { $0.platform?.description }
        throw SwiftletError("no manifest for platform \(platform) (available: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))")
    }
}

/// A single-platform image manifest: OCI image-spec manifest.md or Docker image manifest v2
/// schema 2 (same JSON shape): one config blob and the ordered layer blobs.
public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor]) {
        schemaVersion = 2
        mediaType = MediaType.ociManifest
        self.config = config
        self.layers = layers
    }

    /// Checks the fields this module depends on.
    package func validate() throws {
        guard schemaVersion == 2 else { throw SwiftletError("unsupported manifest schemaVersion \(schemaVersion)") }
        guard MediaType.configs.contains(config.mediaType) else {
            throw SwiftletError("unsupported config media type '\(config.mediaType)'")
        }
        for layer in layers where !MediaType.layers.contains(layer.mediaType) {
            throw SwiftletError("unsupported layer media type '\(layer.mediaType)' (layer \(layer.digest))")
        }
    }
}

/// An image configuration (OCI image-spec config.md; Docker's image JSON, whose extra
/// `config` fields — Healthcheck, OnBuild, Shell — Docker's builder writes): the platform,
/// the runtime defaults, the layers' diff ids and the history. What `build` and `commit`
/// write and what `run` reads.
public struct ImageConfig: Codable, Sendable {
    /// Runtime defaults (`config` in the JSON).
    public struct Runtime: Codable, Sendable {
        public var User: String?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        /// `EXPOSE`d ports: `80/tcp` → {} (what `-P` publishes).
        public var ExposedPorts: [String: EmptyObject]?
        public var Labels: [String: String]?
        /// `VOLUME`s: `/data` → {}.
        public var Volumes: [String: EmptyObject]?
        public var StopSignal: String?
        /// `SHELL` (Docker only): the shell of shell-form RUN, CMD and ENTRYPOINT.
        public var Shell: [String]?
        public var Healthcheck: HealthConfig?
        /// `ONBUILD` triggers (Docker only), each an instruction's text.
        public var OnBuild: [String]?

        public init() {}
    }

    /// A `HEALTHCHECK` (Docker's HealthConfig): `["NONE"]`, `["CMD", …]` or
    /// `["CMD-SHELL", "…"]`; durations in nanoseconds, 0 meaning the default.
    public struct HealthConfig: Codable, Sendable, Equatable {
        public var Test: [String]?
        public var Interval: Int64?
        public var Timeout: Int64?
        public var StartPeriod: Int64?
        public var Retries: Int?

        public init(Test: [String]?, Interval: Int64? = nil, Timeout: Int64? = nil, StartPeriod: Int64? = nil, Retries: Int? = nil) {
            self.Test = Test
            self.Interval = Interval
            self.Timeout = Timeout
            self.StartPeriod = StartPeriod
            self.Retries = Retries
        }
    }

    /// One `history` entry: what made a layer, or an instruction that made none
    /// (`empty_layer`).
    public struct History: Codable, Sendable, Equatable {
        public var created: String?
        public var created_by: String?
        public var author: String?
        public var comment: String?
        public var empty_layer: Bool?

        public init(created: String?, created_by: String?, author: String? = nil, comment: String? = nil, empty_layer: Bool? = nil) {
            self.created = created
            self.created_by = created_by
            self.author = author
            self.comment = comment
            self.empty_layer = empty_layer
        }
    }

    /// The JSON object `{}`, the value of a set's entries (ExposedPorts, Volumes).
    public struct EmptyObject: Codable, Sendable {
        public init() {}
    }

    /// `rootfs`: the uncompressed digests of the layers, in order.
    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diff_ids: [Digest]
    }

    public var architecture: String
    public var os: String
    public var variant: String?
    public var created: String?
    public var author: String?
    /// Docker's top-level `comment`: a commit's or an import's message.
    public var comment: String?
    public var config: Runtime?
    public var rootfs: RootFS
    public var history: [History]?

    public init(platform: Platform, created: String?, config: Runtime?, diffIDs: [Digest], history: [History]?) {
        architecture = platform.architecture
        os = platform.os
        variant = platform.variant
        self.created = created
        self.config = config
        rootfs = RootFS(type: "layers", diff_ids: diffIDs)
        self.history = history
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}

/// Decodes JSON with a clear error naming what was being read.
package func decodeJSON<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as DecodingError {
        throw SwiftletError("malformed \(what): \(describe(error))")
    } catch {
        throw SwiftletError("malformed \(what): \(error)")
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
        return keys.isEmpty ? context.debugDescription : "\(keys): \(context.debugDescription)"
    }
    switch error {
    case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)' \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): return path(context)
    @unknown default: return "\(error)"
    }
}

/// Encodes JSON compactly with sorted keys, so equal content gives equal bytes and digests.
func encodeJSON<T: Encodable>(_ value: T) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding these plain value types cannot fail.
    return (try? encoder.encode(value)) ?? Data()
}
