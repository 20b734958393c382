import Foundation
import HostSystem
import NIOCore
import Runtime
import Units

/// The container life-cycle endpoints (moby's `api/server/router/container`): create,
/// start, stop, kill, wait and remove, each one call into the runtime (on the thread pool)
/// with dockerd's statuses: 201 for create, 204 for the others, 304 for a start of a
/// running or a stop of a stopped container, 404/409 from the error's code.
public enum ContainerLifecycleRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/containers/create") { request, _ in
            let body = try CreateBody.decode(request.body)
            var options = try body.options(defaultIsolation: engine.defaultIsolation)
            options.name = request.query["name"].flatMap { $0.isEmpty ? nil : $0 }
            let create = options
            let config = try await blocking { try engine.runtime.create(create) }
            return try .json(Created(Id: config.id, Warnings: []), status: .created)
        }
        router.add(.POST, "/containers/{id}/start") { _, parameters in
            let id = parameters["id"] ?? ""
            let started = try await blocking { () throws -> Bool in
                guard try !engine.runtime.info(id).state.isActive else { return false }
                _ = try engine.runtime.start(id, attach: false)
                return true
            }
            return started ? .noContent : APIResponse(status: .notModified)
        }
        router.add(.POST, "/containers/{id}/stop") { request, parameters in
            let id = parameters["id"] ?? ""
            let timeout = try request.query["t"].map { text throws(SwiftletError) in
                guard let seconds = Int(text) else { throw SwiftletError("invalid t: \(text)", code: .invalidArgument) }
                return Double(seconds)
            } ?? 10
            let stopped = try await blocking { () throws -> Bool in
                guard try engine.runtime.info(id).state.isActive else { return false }
                try engine.runtime.stop(id, timeout: timeout)
                return true
            }
            return stopped ? .noContent : APIResponse(status: .notModified)
        }
        router.add(.POST, "/containers/{id}/kill") { request, parameters in
            let id = parameters["id"] ?? ""
            let signal = try request.query["signal"].map { text throws(SwiftletError) in
                do { return try SignalName.parse(text) } catch { throw SwiftletError("\(error)", code: .invalidArgument) }
            } ?? SIGKILL
            try await blocking { try engine.runtime.kill(id, signal: signal) }
            return .noContent
        }
        router.add(.POST, "/containers/{id}/wait") { request, parameters in
            let id = parameters["id"] ?? ""
            let text = request.query["condition"] ?? ""
            guard let condition = text.isEmpty ? .notRunning : WaitCondition(rawValue: text) else {
                throw SwiftletError("invalid condition: \"\(text)\"", code: .invalidArgument)
            }
            // A missing container is a 404 before the head goes out.
            _ = try await blocking { try engine.runtime.info(id) }
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                let status = try await onOwnThread { try engine.runtime.wait(id, condition: condition) }
                try await writer.writeJSON(WaitResult(StatusCode: Int(status)))
            }
        }
        router.add(.DELETE, "/containers/{id}") { request, parameters in
            let id = parameters["id"] ?? ""
            let force = request.flag("force")
            try await blocking { try engine.runtime.remove(id, force: force) }
            return .noContent
        }
    }

    struct Created: Encodable {
        var Id: String
        var Warnings: [String]
    }

    struct WaitResult: Encodable {
        struct Failure: Encodable { var Message: String }
        var StatusCode: Int
        var Error: Failure? = nil

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(StatusCode, forKey: .StatusCode)
            try container.encode(Error, forKey: .Error)  // null when none, as moby
        }

        enum CodingKeys: String, CodingKey { case StatusCode, Error }
    }
}

/// moby's `RestartPolicy` in a create or update body; an empty or absent Name is none.
struct RestartPolicyBody: Decodable {
    var Name: String?
    var MaximumRetryCount: Int?

    /// The runtime's policy, nil when none is given; an unknown name is a 400.
    func policy() throws -> RestartPolicy? {
        guard let name = Name, !name.isEmpty else { return nil }
        guard let known = RestartPolicy.Name(rawValue: name) else {
            throw SwiftletError("invalid restart policy '\(name)'", code: .invalidArgument)
        }
        return try RestartPolicy(name: known, maximumRetryCount: MaximumRetryCount ?? 0)
    }
}

/// The body of `POST /containers/create` (moby's `container.CreateRequest`): the fields
/// Swiftlet implements, mapped onto the runtime's `CreateOptions`.
package struct CreateBody: Decodable {
    struct HostConfigBody: Decodable {
        var Binds: [String]?
        var Memory: Int64?
        var NanoCpus: Int64?
        var PidsLimit: Int?
        var AutoRemove: Bool?
        var RestartPolicy: RestartPolicyBody?
        var NetworkMode: String?
        var CapAdd: [String]?
        var CapDrop: [String]?
        var Privileged: Bool?
        var SecurityOpt: [String]?
        var ReadonlyRootfs: Bool?
        var Tmpfs: [String: String]?
        var Isolation: String?
        var Runtime: String?
        var PortBindings: [String: [PortMap.RequestedBinding]?]?
        var PublishAllPorts: Bool?
    }

    var Image: String?
    var Cmd: [String]?
    var Entrypoint: [String]?
    var Env: [String]?
    var WorkingDir: String?
    var User: String?
    var Hostname: String?
    var Tty: Bool?
    var OpenStdin: Bool?
    var StdinOnce: Bool?
    var Labels: [String: String]?
    var HostConfig: HostConfigBody?
    var NetworkingConfig: NetworkingConfigBody?

    /// NetworkingConfig: per network, the endpoint's settings (only Aliases are used).
    struct NetworkingConfigBody: Decodable {
        struct Endpoint: Decodable {
            var Aliases: [String]?
        }

        var EndpointsConfig: [String: Endpoint?]?
    }

    package static func decode(_ body: ByteBuffer) throws -> CreateBody {
        do {
            return try JSONDecoder().decode(CreateBody.self, from: Data(body.readableBytesView))
        } catch {
            throw SwiftletError("invalid container configuration: \(error)", code: .invalidArgument)
        }
    }

    /// The runtime's options; the isolation from HostConfig.Isolation, else the runtime
    /// name (`swiftlet-microvm`, `swiftlet-namespace`), else the daemon's default.
    package func options(defaultIsolation: Isolation) throws -> CreateOptions {
        guard let image = Image, !image.isEmpty else { throw SwiftletError("No image specified", code: .invalidArgument) }
        var options = CreateOptions(image: image)
        var command = Cmd ?? []
        if let entrypoint = Entrypoint, let first = entrypoint.first {
            options.entrypoint = first
            command = Array(entrypoint.dropFirst()) + command
        }
        options.command = command
        options.env = Env ?? []
        options.workingDir = WorkingDir.flatMap { $0.isEmpty ? nil : $0 }
        options.user = User.flatMap { $0.isEmpty ? nil : $0 }
        options.hostname = Hostname.flatMap { $0.isEmpty ? nil : $0 }
        options.tty = Tty ?? false
        options.interactive = OpenStdin ?? false
        options.stdinOnce = StdinOnce ?? false
        options.labels = Labels ?? [:]
        let host = HostConfig
        options.isolation = try Self.isolation(host?.Isolation, runtime: host?.Runtime) ?? defaultIsolation
        options.autoRemove = host?.AutoRemove ?? false
        options.restartPolicy = try host?.RestartPolicy?.policy()
        options.volumes = host?.Binds ?? []
        options.limits = ResourceLimits(memory: host?.Memory.flatMap { $0 > 0 ? $0 : nil },
                                        cpus: host?.NanoCpus.flatMap { $0 > 0 ? Double($0) / 1e9 : nil },
                                        pids: host?.PidsLimit.flatMap { $0 > 0 ? $0 : nil })
        options.network = NetworkMode(host?.NetworkMode ?? "default")
        // The aliases for the network the container starts on (docker run --network-alias).
        if let endpoints = NetworkingConfig?.EndpointsConfig {
            options.networkAliases = endpoints.first { NetworkMode($0.key) == options.network }?.value?.Aliases ?? []
        }
        options.ports = try PortBinding.parse(engineBindings: host?.PortBindings ?? [:])
        options.publishAll = host?.PublishAllPorts ?? false
        options.security.privileged = host?.Privileged ?? false
        options.security.capAdd = host?.CapAdd ?? []
        options.security.capDrop = host?.CapDrop ?? []
        options.security.readOnlyRootfs = host?.ReadonlyRootfs ?? false
        for text in host?.SecurityOpt ?? [] { try options.security.apply(securityOpt: text) }
        options.security.tmpfs = try (host?.Tmpfs ?? [:]).sorted { $0.key < $1.key }.map { path, mountOptions throws(SwiftletError) in
            try TmpfsMount(parsing: mountOptions.isEmpty ? path : "\(path):\(mountOptions)")
        }
        return options
    }

    static func isolation(_ isolation: String?, runtime: String?) throws -> Isolation? {
        if let isolation, !isolation.isEmpty, isolation != "default" {
            guard let chosen = Isolation(rawValue: isolation) else {
                throw SwiftletError("invalid isolation: \(isolation): use microvm or namespace", code: .invalidArgument)
            }
            return chosen
        }
        guard let runtime, !runtime.isEmpty, runtime != "runc" else { return nil }
        guard runtime.hasPrefix("swiftlet-"), let chosen = Isolation(rawValue: String(runtime.dropFirst("swiftlet-".count))) else {
            throw SwiftletError("unknown or invalid runtime name: \(runtime)", code: .invalidArgument)
        }
        return chosen
    }
}
