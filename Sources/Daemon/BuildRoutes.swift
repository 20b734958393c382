import Builder
import Foundation
import HostSystem
import Images
import NIOCore
import Runtime

/// `POST /build`, dockerd's classic builder endpoint (what the `docker` CLI uses when
/// buildx is missing): the context as a tar in the body, the parameters in the query
/// (`t` repeated, `dockerfile`, `buildargs` as JSON, `target`, `nocache`, `q`,
/// `networkmode`; `isolation` picks microvm or namespace for RUN, the daemon's default
/// otherwise), and the JSON message stream out: `stream` lines, `aux` with the image id,
/// or `errorDetail` with the failed RUN's exit code.
public enum BuildRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/build") { request, _ in
            let build = try buildRequest(request, engine: engine)
            let quiet = request.flag("q")
            let body = request.body
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                @Sendable func send(_ object: [String: String]) {
                    guard var data = try? JSONEncoder().encode(object) else { return }
                    data.append(contentsOf: Array("\r\n".utf8))
                    try? writer.writeBlocking(ByteBuffer(bytes: data))
                }
                do {
                    let image = try await onOwnThread { () throws -> ResolvedImage in
                        let directory = try ImageArchiveRoutes.temporaryFile("context")
                        defer { try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent) }
                        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
                        let archive = directory + ".tar"
                        try Data(body.readableBytesView).write(to: URL(fileURLWithPath: archive))
                        try TarArchive.extract(archive, into: directory)
                        var unpacked = build
                        unpacked.context = directory
                        let builder = try ImageBuilder(runtime: engine.runtime, images: try engine.images()) { text in
                            if !quiet { send(["stream": text]) }
                        }
                        return try builder.build(unpacked)
                    }
                    guard var aux = try? JSONEncoder().encode(["aux": ["ID": image.id.description]]) else { return }
                    aux.append(contentsOf: Array("\r\n".utf8))
                    try await writer.write(ByteBuffer(bytes: aux))
                    if quiet { send(["stream": "\(image.id)\n"]) }
                } catch {
                    let failure = (error as? SwiftletError) ?? SwiftletError("\(error)")
                    var code = 1
                    if case .commandFailed(let status) = failure.code { code = Int(status) }
                    let message = try JSONEncoder().encode(FailureMessage(errorDetail: .init(code: code, message: failure.description),
                                                                          error: failure.description))
                    try await writer.write(ByteBuffer(bytes: message + Data("\r\n".utf8)))
                }
            }
        }
    }

    /// dockerd's failure line: `errorDetail` ends the client's build with its code.
    struct FailureMessage: Encodable {
        struct Detail: Encodable {
            var code: Int
            var message: String
        }
        var errorDetail: Detail
        var error: String
    }

    /// The query as a build request (the context is filled in once unpacked).
    static func buildRequest(_ request: APIRequest, engine: Engine) throws -> BuildRequest {
        var build = BuildRequest(context: "")
        build.dockerfile = request.query["dockerfile"].flatMap { $0.isEmpty ? nil : $0 } ?? "Dockerfile"
        build.tags = try (request.queryValues["t"] ?? []).filter { !$0.isEmpty }.map { try ImageReference(parsing: $0) }
        if let arguments = request.query["buildargs"], !arguments.isEmpty {
            do {
                let values = try JSONDecoder().decode([String: String?].self, from: Data(arguments.utf8))
                build.buildArgs = values.compactMapValues { $0 }
            } catch {
                throw SwiftletError("invalid buildargs: \(arguments)", code: .invalidArgument)
            }
        }
        build.target = request.query["target"].flatMap { $0.isEmpty ? nil : $0 }
        build.noCache = request.flag("nocache")
        build.isolation = try request.query["isolation"].flatMap { $0.isEmpty || $0 == "default" ? nil : $0 }.map { text in
            guard let isolation = Isolation(rawValue: text) else {
                throw SwiftletError("invalid isolation '\(text)': use namespace or microvm", code: .invalidArgument)
            }
            return isolation
        } ?? engine.defaultIsolation
        let mode = request.query["networkmode"] ?? ""
        if mode.hasPrefix("container:") {
            throw SwiftletError("network mode \(mode) is not supported for RUN: use bridge, none, host or a user-defined network", code: .invalidArgument)
        }
        build.network = NetworkMode(mode)
        return build
    }
}
