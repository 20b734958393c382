import Foundation
import HostSystem
import NIOCore
import Runtime

/// The exec endpoints (moby's `api/server/router/container` exec routes): create an
/// instance in a running container, start it detached (here) or attached (hijacked, in
/// ``AttachUpgrader``, with stdin and a TTY when asked), resize its TTY, inspect it for its
/// exit code.
public enum ExecRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/containers/{id}/exec") { request, parameters in
            let id = parameters["id"] ?? ""
            let body: CreateBody
            do {
                body = try JSONDecoder().decode(CreateBody.self, from: Data(request.body.readableBytesView))
            } catch {
                throw SwiftletError("invalid exec configuration: \(error)", code: .invalidArgument)
            }
            guard let command = body.Cmd, !command.isEmpty else { throw SwiftletError("No exec command specified", code: .invalidArgument) }
            let container = try await blocking { try engine.runtime.info(id) }
            guard container.state.status == .running else {
                throw SwiftletError("Container \(container.config.id) is not running", code: .conflict)
            }
            guard !container.state.isPaused else { throw Runtime.execInPausedContainer(container.config.id) }
            var options = ExecOptions(command: command)
            options.env = body.Env ?? []
            options.user = body.User.flatMap { $0.isEmpty ? nil : $0 }
            options.workingDir = body.WorkingDir.flatMap { $0.isEmpty ? nil : $0 }
            options.tty = body.Tty ?? false
            options.interactive = body.AttachStdin ?? false
            return try .json(["Id": engine.execs.create(container: container.config.id, options: options)], status: .created)
        }
        router.add(.POST, "/exec/{id}/start") { request, parameters in
            let start = try? JSONDecoder().decode(StartBody.self, from: Data(request.body.readableBytesView))
            guard start?.Detach == true else {
                throw SwiftletError("an attached exec start needs the connection upgraded (Upgrade: tcp)", code: .invalidArgument)
            }
            let instance = try engine.execs.begin(parameters["id"] ?? "")
            try PosixThread.detached { engine.execs.run(instance, engine: engine, channel: nil) }
            return APIResponse()
        }
        router.add(.POST, "/exec/{id}/resize") { request, parameters in
            try engine.execs.resize(parameters["id"] ?? "", to: try TerminalSize(request).size)
            return APIResponse()
        }
        router.add(.GET, "/exec/{id}/json") { _, parameters in
            let instance = try engine.execs.instance(parameters["id"] ?? "")
            return try .json(Inspect(instance))
        }
    }

    struct CreateBody: Decodable {
        var Cmd: [String]?
        var Env: [String]?
        var User: String?
        var WorkingDir: String?
        var Tty: Bool?
        var AttachStdin: Bool?
    }

    struct StartBody: Decodable {
        var Detach: Bool?
    }

    struct Inspect: Encodable {
        struct Process: Encodable {
            var tty = false
            var entrypoint: String
            var arguments: [String]
            var user: String
        }
        var ID: String
        var Running: Bool
        var ExitCode: Int32?
        var ProcessConfig: Process
        var OpenStdin = false
        var OpenStderr = true
        var OpenStdout = true
        var CanRemove = false
        var ContainerID: String
        var DetachKeys = ""
        var Pid = 0

        init(_ instance: ExecSessions.Instance) {
            ID = instance.id
            Running = instance.running
            ExitCode = instance.exitCode
            OpenStdin = instance.options.interactive
            ProcessConfig = Process(tty: instance.options.tty, entrypoint: instance.options.command.first ?? "",
                                    arguments: Array(instance.options.command.dropFirst()), user: instance.options.user ?? "")
            ContainerID = instance.containerID
        }
    }
}
