import Foundation
import HostSystem
import Images
import NIOCore

/// `docker load` and `docker save` over the API: `POST /images/load` takes a tar (a
/// docker-archive or an OCI layout, as `swiftlet image load`) in the body and answers
/// with dockerd's JSON lines; `GET /images/get?names=…` (and `/images/{name}/get`)
/// streams an OCI layout tar of the named images.
public enum ImageArchiveRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/images/load") { request, _ in
            let body = request.body
            let loaded = try await blocking { () throws -> [LoadedImage] in
                let file = try temporaryFile("load.tar")
                defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
                try Data(body.readableBytesView).write(to: URL(fileURLWithPath: file))
                return try engine.images().load(from: file)
            }
            var lines = Data()
            for item in loaded {
                let line = item.reference.map { "Loaded image: \(ImageReference.familiar($0.description))\n" }
                    ?? "Loaded image ID: \(item.image.id)\n"
                lines += try JSONEncoder().encode(["stream": line]) + Data("\n".utf8)
            }
            return APIResponse(headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: lines))
        }
        router.add(.GET, "/images/get") { request, _ in
            try await save(request.query["names"].map { [$0] } ?? [], engine: engine)
        }
        router.add(.GET, "/images/{name*}/get") { _, parameters in
            try await save([parameters["name"] ?? ""], engine: engine)
        }
    }

    /// A tar of `names` (every name must resolve), written first, then sent whole.
    static func save(_ names: [String], engine: Engine) async throws -> APIResponse {
        guard !names.isEmpty else { throw SwiftletError("no image names given", code: .invalidArgument) }
        let data = try await blocking { () throws -> Data in
            let file = try temporaryFile("save.tar")
            defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
            try engine.images().save(names, to: file)
            return try Data(contentsOf: URL(fileURLWithPath: file))
        }
        return APIResponse(headers: [("Content-Type", "application/x-tar")], body: ByteBuffer(bytes: data))
    }

    /// A path named `name` in a new private directory under the system's temporary one.
    static func temporaryFile(_ name: String) throws -> String {
        let directory = NSTemporaryDirectory() + "swiftletd-\(UUID().uuidString)"
        guard mkdir(directory, 0o700) == 0 else { throw SwiftletError.last("mkdir \(directory)") }
        return "\(directory)/\(name)"
    }
}
