import HostSystem
import Foundation
import Images
import AsyncHTTPClient

/// `swiftlet image pull` and `push` over the OCI distribution-spec (spec.md): manifests
/// are fetched with an `Accept` list of the OCI and Docker v2 schema 2 manifest and index
/// types (an index is resolved to the requested platform), blobs are streamed into staging
/// files, hashed as they are written and fsynced before they are checked by size and digest
/// (one pass), a failed or corrupted transfer is retried, and nothing enters the store until
/// the whole image is present and its layers verified (one more read).
/// Push uploads missing blobs monolithically (`POST /blobs/uploads/` then `PUT ?digest=`),
/// skipping those the registry already has (`HEAD`), then `PUT`s the manifest unchanged so
/// its digest is preserved.
extension ImageStore {
    @discardableResult
    public func pull(_ name: String, platform: Platform = .linuxAMD64, options: RegistryOptions = RegistryOptions()) async throws -> LoadedImage {
        let reference = try ImageReference(parsing: name)
        return try await HTTPClient.withHTTPClient(configuration: RegistryClient.configuration) { http in
            try await pull(reference, platform: platform, client: RegistryClient(host: reference.host, options: options, http: http), options: options)
        }
    }

    private func pull(_ reference: ImageReference, platform: Platform, client: RegistryClient,
                      options: RegistryOptions) async throws -> LoadedImage {
        let scope = "repository:\(reference.path):pull"
        let ingest = try Ingest(store: store)
        var (data, mediaType) = try await fetchManifest(client, reference, reference.manifestReference, scope: scope)
        if let pinned = reference.digest, Digest.of(data) != pinned {
            throw SwiftletError("\(reference): the registry returned a manifest whose digest is \(Digest.of(data)), not \(pinned)")
        }
        if MediaType.indexes.contains(mediaType) {
            let index = try decodeJSON(ImageIndex.self, from: data, what: "image index of \(reference)")
            let chosen = try index.select(platform)
            (data, mediaType) = try await fetchManifest(client, reference, chosen.digest.description, scope: scope)
            guard Digest.of(data) == chosen.digest else {
                throw SwiftletError("\(reference): manifest \(chosen.digest) arrived with digest \(Digest.of(data))")
            }
        }
        guard MediaType.manifests.contains(mediaType) else {
            throw SwiftletError("\(reference): unsupported manifest media type '\(mediaType)'")
        }
        let manifest = try decodeJSON(ImageManifest.self, from: data, what: "manifest of \(reference)")
        try manifest.validate()
        let missing = Set(manifest.layers.map(\.digest).filter { !ingest.has($0) })
        for layer in manifest.layers {
            options.observer?(missing.contains(layer.digest) ? .waiting(id: layer.digest.short) : .exists(id: layer.digest.short))
        }
        for blob in [manifest.config] + manifest.layers where !ingest.has(blob.digest) {
            try await fetchBlob(client, reference, blob, scope: scope, into: ingest, options: options)
            if missing.contains(blob.digest) { options.observer?(.downloaded(id: blob.digest.short)) }
        }
        let descriptor = Descriptor(mediaType: mediaType, digest: try ingest.add(data, what: "manifest"), size: Int64(data.count))
        let image = try ingest.resolveImage(manifest: descriptor)
        try LayerVerifier.verify(image, path: ingest.path(of:))
        try ingest.commit([(reference, image)])
        for layer in manifest.layers where missing.contains(layer.digest) {
            options.observer?(.complete(id: layer.digest.short))
        }
        return LoadedImage(reference: reference, image: image)
    }

    public func push(_ name: String, options: RegistryOptions = RegistryOptions()) async throws {
        let reference = try ImageReference(parsing: name)
        let image = try resolve(name)
        try await HTTPClient.withHTTPClient(configuration: RegistryClient.configuration) { http in
            try await push(reference, image, client: RegistryClient(host: reference.host, options: options, http: http))
        }
    }

    private func push(_ reference: ImageReference, _ image: ResolvedImage, client: RegistryClient) async throws {
        let scope = "repository:\(reference.path):pull,push"
        let base = "/v2/\(reference.path)"
        for blob in image.manifest.layers + [image.manifest.config] {
            let head = try await client.send(.HEAD, "\(base)/blobs/\(blob.digest)", scope: scope)
            if head.status == 200 { continue }
            let start = try await client.send(.POST, "\(base)/blobs/uploads/", scope: scope, body: .bytes(Data()))
            guard start.status == 202, let location = start.header("Location") else {
                throw registryError(start, "starting the upload of \(blob.digest) to \(reference.repository)")
            }
            var upload = client.absolute(location)
            upload += (upload.contains("?") ? "&" : "?") + "digest=\(blob.digest)"
            let put = try await client.send(.PUT, upload, scope: scope, headers: ["Content-Type": "application/octet-stream"],
                                            body: .file(store.blobPath(blob.digest), size: blob.size))
            guard put.status == 201 else { throw registryError(put, "uploading \(blob.digest) to \(reference.repository)") }
        }
        let manifest = try store.readBlob(image.manifestDescriptor.digest)
        let mediaType = image.manifest.mediaType ?? image.manifestDescriptor.mediaType
        let put = try await client.send(.PUT, "\(base)/manifests/\(reference.manifestReference)", scope: scope,
                                        headers: ["Content-Type": mediaType], body: .bytes(manifest))
        guard put.status == 201 else { throw registryError(put, "uploading the manifest of \(reference)") }
    }

    private func fetchManifest(_ client: RegistryClient, _ reference: ImageReference, _ tagOrDigest: String,
                               scope: String) async throws -> (Data, String) {
        let response = try await client.send(.GET, "/v2/\(reference.path)/manifests/\(tagOrDigest)", scope: scope,
                                       headers: ["Accept": MediaType.acceptedManifests.joined(separator: ", ")])
        guard response.status == 200 else { throw registryError(response, "fetching manifest \(reference.repository):\(tagOrDigest)") }
        let declared = response.header("Content-Type")?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let embedded = (try? JSONDecoder().decode(MediaTypeField.self, from: response.body))?.mediaType
        var mediaType = embedded ?? declared ?? ""
        if !MediaType.indexes.contains(mediaType) && !MediaType.manifests.contains(mediaType) {
            mediaType = (try? JSONDecoder().decode(ImageIndex.self, from: response.body)) != nil ? MediaType.ociIndex : MediaType.ociManifest
        }
        return (response.body, mediaType)
    }

    /// Streams one blob into a staged writer (hashing as it goes), retrying a dropped or
    /// corrupted transfer; an HTTP client error (4xx) is not retried.
    private func fetchBlob(_ client: RegistryClient, _ reference: ImageReference, _ blob: Descriptor, scope: String,
                           into ingest: Ingest, options: RegistryOptions) async throws {
        var attempt = 0
        while true {
            let what = "blob \(blob.digest) of \(reference)"
            do {
                let writer = try ingest.makeWriter()
                let report = options.observer.map { observer in
                    { (current: Int64, total: Int64) in observer(.downloading(id: blob.digest.short, current: current, total: total)) }
                }
                let response = try await client.download("/v2/\(reference.path)/blobs/\(blob.digest)", scope: scope,
                                                         progressLabel: String(blob.digest.description.prefix(19)),
                                                         report: report) { buffer in
                    try buffer.withUnsafeReadableBytes { try writer.write($0) }
                    guard writer.count <= blob.size else {
                        throw SwiftletError("\(what): more than the \(blob.size) bytes its descriptor gives", code: .io)
                    }
                }
                guard response.status == 200 else { throw registryError(response, "fetching \(what)") }
                try ingest.accept(writer, expecting: blob.digest, size: blob.size, what: what)
                return
            } catch let error as SwiftletError where Self.isRetryable(error) {
                guard attempt < options.retries else {
                    throw error.adding(context: "pulling blob \(blob.digest) of \(reference) failed after \(attempt + 1) attempts")
                }
                attempt += 1
                if options.progress {
                    FileHandle.standardError.write(Data("retrying (\(attempt)/\(options.retries)): \(error)\n".utf8))
                }
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    /// Whether a failed blob transfer is worth repeating: not when the registry refused
    /// the request (an HTTP client error).
    private static func isRetryable(_ error: SwiftletError) -> Bool {
        ![.invalidArgument, .notFound, .permissionDenied, .conflict].contains(error.code)
    }

    private func registryError(_ response: RegistryClient.Response, _ what: String) -> SwiftletError {
        let details = (try? JSONDecoder().decode(RegistryErrors.self, from: response.body))?.errors
            .map { "\($0.code): \($0.message ?? "")" }.joined(separator: "; ")
        return SwiftletError("\(what): HTTP \(response.status)\(details.map { " (\($0))" } ?? "")",
                             code: RegistryClient.statusCode(response.status))
    }
}

/// The `mediaType` field of a manifest or index.
private struct MediaTypeField: Decodable {
    var mediaType: String?
}

/// The error body of the distribution-spec ("Error Codes").
private struct RegistryErrors: Decodable {
    struct Item: Decodable {
        var code: String
        var message: String?
    }

    var errors: [Item]
}
