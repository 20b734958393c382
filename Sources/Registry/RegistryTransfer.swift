import Foundation
import Images

/// `swiftlet image pull` and `push` over the OCI distribution-spec (spec.md): manifests
/// are fetched with an `Accept` list of the OCI and Docker v2 schema 2 manifest and index
/// types (an index is resolved to the requested platform), blobs are streamed to staging
/// files and verified by size and digest, a failed or corrupted transfer is retried, and
/// nothing enters the store until the whole image is present and its layers verified.
/// Push uploads missing blobs monolithically (`POST /blobs/uploads/` then `PUT ?digest=`),
/// skipping those the registry already has (`HEAD`), then `PUT`s the manifest unchanged so
/// its digest is preserved.
extension ImageStore {
    @discardableResult
    public func pull(_ name: String, platform: Platform = .linuxAMD64, options: RegistryOptions = RegistryOptions()) throws -> LoadedImage {
        let reference = try ImageReference(parsing: name)
        let client = RegistryClient(host: reference.host, options: options)
        let scope = "repository:\(reference.path):pull"
        let ingest = try Ingest(store: store)
        var (data, mediaType) = try fetchManifest(client, reference, reference.manifestReference, scope: scope)
        if let pinned = reference.digest, Digest.of(data) != pinned {
            throw ImageError("\(reference): the registry returned a manifest whose digest is \(Digest.of(data)), not \(pinned)")
        }
        if MediaType.indexes.contains(mediaType) {
            let index = try decodeJSON(ImageIndex.self, from: data, what: "image index of \(reference)")
            let chosen = try index.select(platform)
            (data, mediaType) = try fetchManifest(client, reference, chosen.digest.description, scope: scope)
            guard Digest.of(data) == chosen.digest else {
                throw ImageError("\(reference): manifest \(chosen.digest) arrived with digest \(Digest.of(data))")
            }
        }
        guard MediaType.manifests.contains(mediaType) else {
            throw ImageError("\(reference): unsupported manifest media type '\(mediaType)'")
        }
        let manifest = try decodeJSON(ImageManifest.self, from: data, what: "manifest of \(reference)")
        try manifest.validate()
        for blob in [manifest.config] + manifest.layers where !ingest.has(blob.digest) {
            try fetchBlob(client, reference, blob, scope: scope, into: ingest, options: options)
        }
        let descriptor = Descriptor(mediaType: mediaType, digest: try ingest.add(data, what: "manifest"), size: Int64(data.count))
        let image = try ingest.resolveImage(manifest: descriptor)
        try LayerVerifier.verify(image, path: ingest.path(of:))
        try ingest.commit([(reference, image)])
        return LoadedImage(reference: reference, image: image)
    }

    public func push(_ name: String, options: RegistryOptions = RegistryOptions()) throws {
        let reference = try ImageReference(parsing: name)
        let image = try resolve(name)
        let client = RegistryClient(host: reference.host, options: options)
        let scope = "repository:\(reference.path):pull,push"
        let base = "/v2/\(reference.path)"
        for blob in image.manifest.layers + [image.manifest.config] {
            let head = try client.send("HEAD", "\(base)/blobs/\(blob.digest)", scope: scope)
            if head.status == 200 { continue }
            let start = try client.send("POST", "\(base)/blobs/uploads/", scope: scope, body: Data())
            guard start.status == 202, let location = start.header("Location") else {
                throw registryError(start, "starting the upload of \(blob.digest) to \(reference.repository)")
            }
            var upload = client.absolute(location)
            upload += (upload.contains("?") ? "&" : "?") + "digest=\(blob.digest)"
            let put = try client.send("PUT", upload, scope: scope, headers: ["Content-Type": "application/octet-stream"],
                                      bodyFile: store.blobPath(blob.digest))
            guard put.status == 201 else { throw registryError(put, "uploading \(blob.digest) to \(reference.repository)") }
        }
        let manifest = try store.readBlob(image.manifestDescriptor.digest)
        let mediaType = image.manifest.mediaType ?? image.manifestDescriptor.mediaType
        let put = try client.send("PUT", "\(base)/manifests/\(reference.manifestReference)", scope: scope,
                                  headers: ["Content-Type": mediaType], body: manifest)
        guard put.status == 201 else { throw registryError(put, "uploading the manifest of \(reference)") }
    }

    private func fetchManifest(_ client: RegistryClient, _ reference: ImageReference, _ tagOrDigest: String,
                               scope: String) throws -> (Data, String) {
        let response = try client.send("GET", "/v2/\(reference.path)/manifests/\(tagOrDigest)", scope: scope,
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

    private func fetchBlob(_ client: RegistryClient, _ reference: ImageReference, _ blob: Descriptor, scope: String,
                           into ingest: Ingest, options: RegistryOptions) throws {
        var attempt = 0
        while true {
            let file = ingest.scratchPath()
            do {
                let response = try client.send("GET", "/v2/\(reference.path)/blobs/\(blob.digest)", scope: scope, download: file)
                guard response.status == 200 else {
                    throw registryError(response, "fetching blob \(blob.digest) of \(reference)")
                }
                try ingest.stageFile(file, expecting: blob.digest, size: blob.size, what: "blob \(blob.digest) of \(reference)")
                return
            } catch let error as ImageError where !error.message.contains("HTTP 4") {
                guard attempt < options.retries else {
                    throw ImageError.wrap(error, "pulling blob \(blob.digest) of \(reference) failed after \(attempt + 1) attempts")
                }
                attempt += 1
                if options.progress {
                    FileHandle.standardError.write(Data("retrying (\(attempt)/\(options.retries)): \(error.message)\n".utf8))
                }
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
    }

    private func registryError(_ response: RegistryClient.Response, _ what: String) -> ImageError {
        let details = (try? JSONDecoder().decode(RegistryErrors.self, from: response.body))?.errors
            .map { "\($0.code): \($0.message ?? "")" }.joined(separator: "; ")
        return ImageError("\(what): HTTP \(response.status)\(details.map { " (\($0))" } ?? "")")
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
