import Foundation
import HostSystem
import NIOCore
import Runtime

/// `docker cp`'s endpoints (moby's `api/server/router/container/copy.go`):
/// `HEAD /containers/{id}/archive?path=` answers the path's stat in the
/// `X-Docker-Container-Path-Stat` header (base64 JSON), `GET` adds a tar of it, `PUT`
/// unpacks the tar in the body into the directory `path` (`copyUIDGID=1` keeps owners).
public enum ArchiveRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/containers/{id}/archive") { request, parameters in
            let id = parameters["id"] ?? "", path = try requiredPath(request)
            if request.method == .HEAD {
                let stat = try await blocking { try engine.runtime.statPath(id, path: path) }
                return APIResponse(headers: [try statHeader(stat)])
            }
            let (stat, data) = try await blocking { () throws -> (ContainerPathStat, Data) in
                let file = try ImageArchiveRoutes.temporaryFile("archive.tar")
                defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
                let stat = try engine.runtime.archivePath(id, path: path, to: file)
                return (stat, try Data(contentsOf: URL(fileURLWithPath: file)))
            }
            return APIResponse(headers: [("Content-Type", "application/x-tar"), try statHeader(stat)], body: ByteBuffer(bytes: data))
        }
        router.add(.PUT, "/containers/{id}/archive") { request, parameters in
            let id = parameters["id"] ?? "", path = try requiredPath(request)
            let body = request.body, keepOwners = request.flag("copyUIDGID")
            try await blocking {
                let file = try ImageArchiveRoutes.temporaryFile("archive.tar")
                defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
                try Data(body.readableBytesView).write(to: URL(fileURLWithPath: file))
                try engine.runtime.extractArchive(id, archive: file, into: path, copyOwnership: keepOwners)
            }
            return APIResponse()
        }
    }

    private static func requiredPath(_ request: APIRequest) throws -> String {
        guard let path = request.query["path"], !path.isEmpty else {
            throw SwiftletError("path is required", code: .invalidArgument)
        }
        return path
    }

    private static func statHeader(_ stat: ContainerPathStat) throws -> (String, String) {
        ("X-Docker-Container-Path-Stat", try JSONEncoder().encode(stat).base64EncodedString())
    }
}
