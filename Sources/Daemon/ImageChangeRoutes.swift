import Foundation
import HostSystem
import Images
import NIOCore
import Registry
import Runtime

/// The image endpoints that read one image or change the store: inspect, tag, remove
/// (409 while a container uses the image, unless forced), push, and create, which pulls
/// (`fromImage`, `tag`) and streams dockerd's JSON progress messages, an error as the
/// stream's last message. Registries on a loopback address are reached over plain HTTP,
/// as dockerd treats 127.0.0.0/8 as insecure; `X-Registry-Auth` carries credentials.
public enum ImageChangeRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        addPush(to: &router, engine: engine)
        router.add(.GET, "/images/{name*}/json") { _, parameters in
            let name = parameters["name"] ?? ""
            return try .json(try await blocking { () throws -> ImageInspect in
                let store = try engine.images()
                let image = try store.resolve(name)
                let references = try store.list().first { $0.id == image.id }?.references ?? []
                return ImageInspect(image, references: references)
            })
        }
        router.add(.POST, "/images/{name*}/tag") { request, parameters in
            let name = parameters["name"] ?? ""
            guard let repository = request.query["repo"], !repository.isEmpty else {
                throw SwiftletError("repository name (repo) not specified", code: .invalidArgument)
            }
            let tag = request.query["tag"].flatMap { $0.isEmpty ? nil : $0 } ?? "latest"
            try await blocking { try engine.images().tag(name, as: "\(repository):\(tag)") }
            return APIResponse(status: .created)
        }
        router.add(.DELETE, "/images/{name*}") { request, parameters in
            let name = parameters["name"] ?? ""
            let force = request.flag("force")
            let removed = try await blocking { () throws -> [[String: String]] in
                let store = try engine.images()
                let image = try store.resolve(name)
                // Untagging one of several names never deletes the image: always allowed.
                let names = try store.list().first { $0.id == image.id }?.references ?? []
                let untagOnly = names.count > 1 && (try? ImageReference(parsing: name)) != nil && !name.contains("@")
                let users = engine.runtime.list(all: true).filter { $0.config.imageID == image.id.description }
                if !force, !untagOnly, let user = users.first {
                    throw SwiftletError("conflict: unable to remove repository reference \"\(name)\" (must force) - container \(user.config.id.prefix(12)) is using its referenced image \(image.id.description.dropFirst(7).prefix(12))",
                                        code: .conflict)
                }
                return try store.remove([name]).map { line in
                    line.hasPrefix("Untagged: ") ? ["Untagged": ImageReference.familiar(String(line.dropFirst(10)))]
                        : ["Deleted": String(line.dropFirst(9))]
                }
            }
            return try .json(removed)
        }
        router.add(.POST, "/images/create") { request, _ in
            if let source = request.query["fromSrc"] {
                return try await ImageMakingRoutes.importImage(request, source: source, engine: engine)
            }
            guard let from = request.query["fromImage"], !from.isEmpty else {
                throw SwiftletError("fromImage or fromSrc is required", code: .invalidArgument)
            }
            let tag = request.query["tag"] ?? ""
            let name = tag.isEmpty ? from : tag.hasPrefix("sha256:") ? "\(from)@\(tag)" : "\(from):\(tag)"
            let options = try registryOptions(for: name, auth: request.headers.first(name: "X-Registry-Auth"))
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                try await writer.writeJSON(["status": "Pulling from \(ImageReference.familiar(from))", "id": tag.isEmpty ? "latest" : tag])
                do {
                    // Layer progress arrives from the transfer as it goes and is written as
                    // it comes (the CLI draws a bar per layer from it).
                    let (events, continuation) = AsyncStream<PullProgress>.makeStream()
                    var observed = options
                    observed.observer = { continuation.yield($0) }
                    let pulling = Task { [observed] () async throws -> LoadedImage in
                        defer { continuation.finish() }
                        return try await engine.images().pull(name, options: observed)
                    }
                    for await event in events { try? await writer.writeJSON(ProgressMessage(event)) }
                    let pulled = try await pulling.value
                    try await writer.writeJSON(["status": "Digest: \(pulled.image.manifestDescriptor.digest)"])
                    try await writer.writeJSON(["status": "Status: Downloaded newer image for \(ImageReference.familiar(pulled.reference?.description ?? name))"])
                } catch {
                    let message = (error as? SwiftletError)?.description ?? "\(error)"
                    try await writer.writeJSON(ErrorMessage(errorDetail: ["message": message], error: message))
                }
            }
        }
    }

    /// `POST /images/{name}/push` (`tag` names one tag; the CLI sends it): streams status
    /// messages, then the pushed digest as dockerd's last line, or an error message.
    static func addPush(to router: inout Router, engine: Engine) {
        router.add(.POST, "/images/{name*}/push") { request, parameters in
            let repository = parameters["name"] ?? ""
            let tag = request.query["tag"] ?? ""
            let name = tag.isEmpty ? repository : "\(repository):\(tag)"
            let options = try registryOptions(for: name, auth: request.headers.first(name: "X-Registry-Auth"))
            _ = try await blocking { try engine.images().resolve(name) }
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                try await writer.writeJSON(["status": "The push refers to repository [\(try ImageReference(parsing: name).repository)]"])
                do {
                    let store = try engine.images()
                    try await store.push(name, options: options)
                    let digest = try store.resolve(name).manifestDescriptor.digest
                    try await writer.writeJSON(["status": "\(tag.isEmpty ? "latest" : tag): digest: \(digest)"])
                } catch {
                    let message = (error as? SwiftletError)?.description ?? "\(error)"
                    try await writer.writeJSON(ErrorMessage(errorDetail: ["message": message], error: message))
                }
            }
        }
    }

    /// One layer's line of dockerd's pull progress stream.
    struct ProgressMessage: Encodable {
        struct Detail: Encodable {
            var current: Int64?
            var total: Int64?
        }
        var status: String
        var progressDetail = Detail()
        var progress: String?
        var id: String

        init(_ event: PullProgress) {
            id = event.id
            switch event {
            case .waiting: status = "Pulling fs layer"
            case .exists: status = "Already exists"
            case .downloaded: status = "Download complete"
            case .complete: status = "Pull complete"
            case .downloading(_, let current, let total):
                status = "Downloading"
                progressDetail = Detail(current: current, total: total > 0 ? total : nil)
                progress = Self.bar(current, of: total)
            }
        }

        /// moby's JSONProgress text: a 50-column bar and the sizes (go-units' HumanSize).
        static func bar(_ current: Int64, of total: Int64) -> String {
            guard total > 0 else { return humanSize(current) }
            let filled = min(50, Int(50 * Double(current) / Double(total)))
            let box = String(repeating: "=", count: filled) + (filled < 50 ? ">" + String(repeating: " ", count: 49 - filled) : "")
            return "[\(box)] \(humanSize(current))/\(humanSize(total))"
        }

        static func humanSize(_ bytes: Int64) -> String {
            var size = Double(bytes), unit = 0
            let units = ["B", "kB", "MB", "GB", "TB"]
            while size >= 1000 && unit < units.count - 1 {
                size /= 1000
                unit += 1
            }
            return String(format: "%.4g", size) + units[unit]
        }
    }

    struct ErrorMessage: Encodable {
        var errorDetail: [String: String]
        var error: String
    }

    /// Plain HTTP for a registry on a loopback address; credentials from the base64url
    /// JSON `X-Registry-Auth` (`username`, `password`).
    static func registryOptions(for name: String, auth: String?) throws -> RegistryOptions {
        var options = RegistryOptions.defaults(for: try ImageReference(parsing: name))
        if let auth, !auth.isEmpty {
            var base64 = auth.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            if let data = Data(base64Encoded: base64),
               let credentials = try? JSONDecoder().decode([String: String].self, from: data) {
                options.username = credentials["username"].flatMap { $0.isEmpty ? nil : $0 }
                options.password = credentials["password"]
            }
        }
        return options
    }

    /// `GET /images/{name}/json` in dockerd's shape.
    struct ImageInspect: Encodable {
        struct RootFS: Encodable {
            var `Type`: String
            var Layers: [String]
        }
        var Id: String
        var RepoTags: [String]
        var RepoDigests: [String]
        var Parent = ""
        var Comment: String
        var Author: String
        var Created: String
        var Config: ImageConfig.Runtime
        var Architecture: String
        var Variant: String?
        var Os: String
        var Size: Int64
        var RootFS: RootFS

        init(_ image: ResolvedImage, references: [String]) {
            Id = image.id.description
            RepoTags = references.map(ImageReference.familiar)
            RepoDigests = Set(RepoTags.map(ImageRoutes.repository)).sorted().map { "\($0)@\(image.manifestDescriptor.digest)" }
            Created = image.config.created ?? ContainerStatistics.zeroTime
            Comment = image.config.comment ?? ""
            Author = image.config.author ?? ""
            // User and WorkingDir are always present in dockerd's answer, "" when unset.
            var runtime = image.config.config ?? ImageConfig.Runtime()
            runtime.User = runtime.User ?? ""
            runtime.WorkingDir = runtime.WorkingDir ?? ""
            self.Config = runtime
            Architecture = image.config.architecture
            Variant = image.config.variant
            Os = image.config.os
            Size = image.size
            self.RootFS = ImageInspect.RootFS(Type: image.config.rootfs.type, Layers: image.config.rootfs.diff_ids.map(\.description))
        }
    }
}
