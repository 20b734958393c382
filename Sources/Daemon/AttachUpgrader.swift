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
/// the whole output arrives. Input is not forwarded yet (`-i` needs an input path into
/// the container's monitor); bytes the client sends are discarded.
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
        case attach(id: String, streams: Set<Int32>)
        case exec(id: String)

        init?(uri: String) {
            let request = APIRequest(method: .POST, uri: uri)
            let segments = request.path.split(separator: "/")
            guard segments.count == 3 else { return nil }
            if segments[0] == "containers", segments[2] == "attach" {
                self = .attach(id: String(segments[1]),
                               streams: Set([request.flag("stdout") ? 1 : 0, request.flag("stderr") ? 2 : 0].filter { $0 != 0 }))
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
            case .attach(let id, _): return try engine.runtime.info(id).config.tty
            case .exec(let id):
                _ = try engine.execs.instance(id)
                return false
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
        do {
            try context.pipeline.syncOperations.addHandler(DiscardingHandler())
        } catch {
            return context.eventLoop.makeFailedFuture(error)
        }
        Task {
            _ = try? await onOwnThread {
                switch target {
                case .attach(let id, let streams):
                    let tty = try engine.runtime.info(id).config.tty
                    try engine.runtime.logs(id, follow: true, tail: 0, untilExit: true) { entry in
                        guard streams.contains(entry.stream) else { return true }
                        let frame = ContainerOutputRoutes.frame(Array(entry.text.utf8), stream: entry.stream, raw: tty)
                        return (try? channel.writeAndFlush(frame).wait()) != nil
                    }
                case .exec(let id):
                    engine.execs.run(try engine.execs.begin(id), engine: engine, channel: channel)
                }
            }
            try? await channel.close()
        }
        return context.eventLoop.makeSucceededVoidFuture()
    }
}

/// After the upgrade: reads and drops what the client sends (its stdin is not forwarded),
/// and keeps the connection open when the client half-closes it.
private final class DiscardingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { return }
        context.fireUserInboundEventTriggered(event)
    }
}
