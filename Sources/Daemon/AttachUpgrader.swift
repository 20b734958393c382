import Foundation
import HostSystem
import NIOCore
import NIOHTTP1
import NIOPosix
import Runtime

/// `POST /containers/{id}/attach` and `POST /exec/{id}/start` with `Upgrade: tcp`
/// (moby's hijacked streams): the server answers 101 and the connection carries the
/// container's (or the exec'd process's) output from then on,
/// multiplexed (`stdcopy` frames) without a TTY, raw with one, until the container ends;
/// then the server closes it. `docker run` attaches before it starts the container, so
/// the whole output arrives. With `stdin=1` (an exec with AttachStdin) what the client
/// sends goes to the container's stdin through its monitor's input socket
/// (``AttachInput``), or to the exec'd process; when the client half-closes, a StdinOnce
/// container's stdin closes.
final class AttachUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "tcp"
    let requiredUpgradeHeaders: [String] = []
    private let engine: Engine

    init(engine: Engine) {
        self.engine = engine
    }

    /// What a hijacking URI names: a container's attach (with the streams it wants) or an
    /// exec instance's start; nil for any other request.
    enum Target: Sendable {
        case attach(id: String, streams: Set<Int32>, stdin: Bool)
        case exec(id: String)

        init?(uri: String) {
            let request = APIRequest(method: .POST, uri: uri)
            let segments = request.path.split(separator: "/")
            guard segments.count == 3 else { return nil }
            if segments[0] == "containers", segments[2] == "attach" {
                self = .attach(id: String(segments[1]),
                               streams: Set([request.flag("stdout") ? 1 : 0, request.flag("stderr") ? 2 : 0].filter { $0 != 0 }),
                               stdin: request.flag("stdin"))
            } else if segments[0] == "exec", segments[2] == "start" {
                self = .exec(id: String(segments[1]))
            } else {
                return nil
            }
        }
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead,
                              initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        guard let target = Target(uri: upgradeRequest.uri) else {
            return channel.eventLoop.makeFailedFuture(SwiftletError("only attach upgrades to tcp", code: .invalidArgument))
        }
        let engine = engine
        return NIOThreadPool.singleton.runIfActive(eventLoop: channel.eventLoop) {
            switch target {
            case .attach(let id, _, _): return try engine.runtime.info(id).config.tty
            case .exec(let id): return try engine.execs.instance(id).options.tty
            }
        }.map { tty in
            var headers = initialResponseHeaders
            headers.add(contentsOf: APIServer.commonHeaders)
            headers.add(name: "Content-Type", value: tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream")
            return headers
        }
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        guard let target = Target(uri: upgradeRequest.uri) else { return context.eventLoop.makeSucceededVoidFuture() }
        let channel = context.channel, engine = engine
        let input: HijackedInput?
        switch target {
        case .attach(_, _, let stdin): input = stdin ? HijackedInput() : nil
        case .exec(let id): input = (try? engine.execs.instance(id).options.interactive) == true ? HijackedInput() : nil
        }
        do {
            try context.pipeline.syncOperations.addHandler(HijackedInputHandler(input: input))
        } catch {
            return context.eventLoop.makeFailedFuture(error)
        }
        Task {
            _ = try? await onOwnThread {
                switch target {
                case .attach(let id, let streams, _):
                    let config = try engine.runtime.info(id).config
                    let tty = config.tty
                    if let input {
                        try PosixThread.detached { Self.forward(input, to: id, closingStdin: config.stdinOnce ?? false, engine: engine) }
                    }
                    try engine.runtime.logs(id, follow: true, tail: 0, untilExit: true) { entry in
                        guard streams.contains(entry.stream) else { return true }
                        let frame = ContainerOutputRoutes.frame(Array(entry.text.utf8), stream: entry.stream, raw: tty)
                        return (try? channel.writeAndFlush(frame).wait()) != nil
                    }
                case .exec(let id):
                    engine.execs.run(try engine.execs.begin(id), engine: engine, channel: channel, input: input)
                }
            }
            try? await channel.close()
        }
        return context.eventLoop.makeSucceededVoidFuture()
    }

    /// Feeds an attached client's input to the container's stdin (once it runs: `docker
    /// run` attaches first); at the client's end of input a StdinOnce container's stdin
    /// closes.
    private static func forward(_ input: HijackedInput, to id: String, closingStdin: Bool, engine: Engine) {
        guard let connection = try? engine.runtime.attachInput(id, waitingForStart: true) else { return }
        if input.drain(into: { (try? connection.send($0)) != nil }), closingStdin {
            try? connection.closeStdin()
        }
    }
}
