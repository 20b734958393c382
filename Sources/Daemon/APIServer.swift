import Foundation
import HostSystem
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The Engine API's HTTP/1.1 server on SwiftNIO: each request is read whole, answered by
/// the ``Router`` (off the event loop: handlers run as tasks and do blocking state-root
/// work on NIO's thread pool, see ``blocking(_:)``), and every response carries dockerd's
/// headers (`Api-Version`, `Ostype`, `Server`, `Docker-Experimental`).
public final class APIServer: Sendable {
    private let router: Router
    private let engine: Engine
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup

    public init(engine: Engine, logger: Logger) {
        router = engineRouter(engine)
        self.engine = engine
        self.logger = logger
        group = MultiThreadedEventLoopGroup.singleton
    }

    /// Listens on `address` (an `fd://` one's descriptors are `activated`, from
    /// ``SocketActivation/claim(for:)``): the channels to close to stop. A TCP listener
    /// speaks TLS when `security` asks for it. A connection the client upgrades to a raw
    /// stream (attach) leaves HTTP: the request handler goes too. A client may half-close
    /// (the docker CLI does after an attach without stdin).
    public func listen(on address: ListenAddress, security: TransportSecurity = .plain,
                       activated: [Int32] = []) async throws -> [any Channel] {
        let tls: NIOSSLContext? = if case .tcp = address { security.context } else { nil }
        let bootstrap = bootstrap(tls: tls)
        switch address {
        case .unix(let path):
            do {
                let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                try Self.restrict(socket: path)
                return [channel]
            } catch let error as SwiftletError {
                throw error
            } catch {
                throw SwiftletError("cannot listen on unix://\(path): \(error)", code: .unavailable)
            }
        case .tcp(let host, let port):
            do {
                return [try await bootstrap.bind(host: host, port: port).get()]
            } catch {
                throw SwiftletError("cannot listen on tcp://\(host):\(port): \(error)", code: .unavailable)
            }
        case .systemd:
            var channels: [any Channel] = []
            for descriptor in activated {
                do {
                    channels.append(try await bootstrap.withBoundSocket(descriptor).get())
                } catch {
                    throw SwiftletError("cannot listen on fd://\(descriptor): \(error)", code: .unavailable)
                }
            }
            return channels
        }
    }

    /// A server whose connections speak HTTP with the Engine API's handler and upgraders,
    /// inside TLS when `tls` is given.
    private func bootstrap(tls: NIOSSLContext?) -> ServerBootstrap {
        let router = router, logger = logger, engine = engine
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    let upgrade: NIOHTTPServerUpgradeSendableConfiguration = (
                        upgraders: [AttachUpgrader(engine: engine)],
                        completionHandler: { context in
                            _ = context.pipeline.syncOperations.removeHandler(name: APIHandler.name)
                        })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: upgrade, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(APIHandler(router: router, logger: logger), name: APIHandler.name)
                }
            }
    }

    /// Mode 0660 and the `swiftlet` group when it exists, as dockerd does with docker.sock.
    static func restrict(socket path: String) throws {
        if let group = getgrnam("swiftlet") { chown(path, 0, group.pointee.gr_gid) }
        guard chmod(path, 0o660) == 0 else { throw SwiftletError.last("chmod \(path)") }
    }

    /// The headers dockerd puts on every response.
    static let commonHeaders = [
        ("Api-Version", APIVersion.maximum.description), ("Docker-Experimental", "false"), ("Ostype", "linux"),
        ("Server", "Swiftlet/\(SystemRoutes.engineVersion) (linux)"),
    ]
}

/// Runs blocking work (the state root's files and locks, a process to wait for) on NIO's
/// thread pool, so no event loop and no cooperative thread blocks on it.
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// Runs blocking work that may last as long as a container (waiting for its exit,
/// following its log) on a thread of its own, so it never holds one of the thread pool's
/// few threads (docs/architecture.md, the concurrency rule).
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        do {
            try PosixThread.detached { continuation.resume(with: Result { try body() }) }
        } catch {
            continuation.resume(throwing: error)
        }
    }
}

/// Reads one request (head, body, end), hands it to the router in a task and writes the
/// response on the channel's event loop.
private final class APIHandler: ChannelInboundHandler, RemovableChannelHandler {
    static let name = "swiftletd-api"
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(router: Router, logger: Logger) {
        self.router = router
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard let head else { return }
            self.head = nil
            let request = APIRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
            body = ByteBuffer()
            logger.debug("\(head.method) \(head.uri)")
            let router = router
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            promise.completeWithTask { await router.respond(to: request) }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { response in
                let (handler, context) = bound.value
                handler.write(response, for: head, context: context)
            }
        }
    }

    private func write(_ response: APIResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(APIServer.commonHeaders + response.headers)
        let keepAlive = request.isKeepAlive
        if let stream = response.stream {
            // No Content-Length: the encoder sends the body chunked.
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status,
                                                                         headers: headers))), promise: nil)
            let channel = context.channel
            let logger = logger
            Task {
                do {
                    try await stream(BodyWriter(channel: channel))
                } catch {
                    logger.debug("\(request.method) \(request.uri): stream ended: \(error)")
                }
                try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
                if !keepAlive { try? await channel.close() }
            }
            return
        }
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.readableBytes)")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers))),
                      promise: nil)
        if request.method != .HEAD && response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
