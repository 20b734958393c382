import Builder
import Foundation
import HostSystem
import Images
import NIOCore
import Runtime

/// Images made from containers and tars, as dockerd's API has them: `POST /commit`,
/// `GET /containers/{id}/changes`, `GET /containers/{id}/export`,
/// `GET /images/{name}/history` and the import half of `POST /images/create`
/// (`fromSrc=-`, the tar in the body).
public enum ImageMakingRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/commit") { request, _ in
            let container = request.query["container"] ?? ""
            let reference = try imageReference(repository: request.query["repo"], tag: request.query["tag"])
            let options = CommitOptions(reference: reference, author: nonEmpty(request.query["author"]),
                                        comment: nonEmpty(request.query["comment"]),
                                        pause: request.query["pause"].map(APIRequest.isTrue) ?? true)
            let override = try bodyConfig(request)
            let changes = try ConfigChanges(request.queryValues["changes"] ?? [])
            let image = try await blocking {
                try engine.runtime.commit(container, options: options) { config in
                    override?.apply(to: &config)
                    try changes.apply(&config)
                }
            }
            return try .json(["Id": image.id.description], status: .created)
        }
        router.add(.GET, "/containers/{id}/changes") { _, parameters in
            let changes = try await blocking { try engine.runtime.changes(parameters["id"] ?? "") }
            return try .json(changes.map { ChangeItem(Path: $0.path, Kind: $0.kind.rawValue) })
        }
        router.add(.GET, "/containers/{id}/export") { _, parameters in
            let data = try await blocking { () throws -> Data in
                let file = try ImageArchiveRoutes.temporaryFile("export.tar")
                defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
                try engine.runtime.export(parameters["id"] ?? "", to: file)
                return try Data(contentsOf: URL(fileURLWithPath: file))
            }
            return APIResponse(headers: [("Content-Type", "application/x-tar")], body: ByteBuffer(bytes: data))
        }
        router.add(.GET, "/images/{name*}/history") { _, parameters in
            let entries = try await blocking { try engine.images().history(parameters["name"] ?? "") }
            return try .json(entries.map(HistoryItem.init))
        }
    }

    /// `POST /images/create?fromSrc=-`: the body is a file-system tar; answers with
    /// dockerd's one status line, the new image's id.
    static func importImage(_ request: APIRequest, source: String, engine: Engine) async throws -> APIResponse {
        guard source == "-" else {
            throw SwiftletError("importing from a URL (fromSrc=\(source)) is not supported: send the archive in the request body (fromSrc=-)",
                                code: .invalidArgument)
        }
        let reference = try imageReference(repository: request.query["repo"], tag: request.query["tag"])
        let changes = try ConfigChanges(request.queryValues["changes"] ?? [])
        let message = nonEmpty(request.query["message"])
        let body = request.body
        let image = try await blocking { () throws -> ResolvedImage in
            let file = try ImageArchiveRoutes.temporaryFile("import.tar")
            defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
            try Data(body.readableBytesView).write(to: URL(fileURLWithPath: file))
            return try engine.images().importFilesystem(from: file, source: "-", reference: reference, message: message, changes: changes.apply)
        }
        let line = try JSONEncoder().encode(["status": image.id.description]) + Data("\r\n".utf8)
        return APIResponse(headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: line))
    }

    /// `repo` and `tag` as one reference; nil when `repo` is absent (a dangling image).
    static func imageReference(repository: String?, tag: String?) throws -> ImageReference? {
        guard let repository = nonEmpty(repository) else { return nil }
        let tag = nonEmpty(tag)
        return try ImageReference(parsing: tag.map { "\(repository):\($0)" } ?? repository)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        value.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The Config a commit request may carry (the CLI sends `null`): its fields override
    /// the container's, as dockerd merges them.
    private static func bodyConfig(_ request: APIRequest) throws -> CommitConfig? {
        guard request.body.readableBytes > 0 else { return nil }
        let data = Data(request.body.readableBytesView)
        do {
            return try JSONDecoder().decode(CommitConfig?.self, from: data)
        } catch {
            throw SwiftletError("invalid commit configuration in the request body: \(error)", code: .invalidArgument)
        }
    }

    /// The fields of a container Config that a commit's body sets on the image.
    struct CommitConfig: Decodable {
        var Cmd: [String]?
        var Entrypoint: [String]?
        var Env: [String]?
        var WorkingDir: String?
        var User: String?
        var ExposedPorts: [String: ImageConfig.EmptyObject]?
        var Labels: [String: String]?
        var Volumes: [String: ImageConfig.EmptyObject]?
        var StopSignal: String?

        func apply(to config: inout ImageConfig.Runtime) {
            if let Cmd { config.Cmd = Cmd }
            if let Entrypoint { config.Entrypoint = Entrypoint }
            if let Env, !Env.isEmpty { config.Env = Env }
            if let WorkingDir, !WorkingDir.isEmpty { config.WorkingDir = WorkingDir }
            if let User, !User.isEmpty { config.User = User }
            if let ExposedPorts { config.ExposedPorts = (config.ExposedPorts ?? [:]).merging(ExposedPorts) { $1 } }
            if let Labels { config.Labels = (config.Labels ?? [:]).merging(Labels) { $1 } }
            if let Volumes { config.Volumes = (config.Volumes ?? [:]).merging(Volumes) { $1 } }
            if let StopSignal, !StopSignal.isEmpty { config.StopSignal = StopSignal }
        }
    }

    /// One element of `GET /containers/{id}/changes`: Kind 0 modified, 1 added, 2 deleted.
    struct ChangeItem: Encodable {
        var Path: String
        var Kind: Int
    }

    /// One element of `GET /images/{name}/history` (moby's image.HistoryResponseItem).
    struct HistoryItem: Encodable {
        var Id: String
        var Created: Int
        var CreatedBy: String
        var Tags: [String]?
        var Size: Int64
        var Comment: String

        init(_ entry: ImageHistoryEntry) {
            Id = entry.id?.description ?? "<missing>"
            Created = entry.created.map { Int($0.timeIntervalSince1970) } ?? 0
            CreatedBy = entry.createdBy
            Tags = entry.id == nil ? nil : entry.tags.map(ImageReference.familiar)
            Size = entry.size
            Comment = entry.comment
        }
    }
}
