import Foundation
import HostSystem
import NIOCore
import Synchronization

/// What a client sends on a hijacked connection (`attach` with `stdin=1`, an exec started
/// with `AttachStdin`): the bytes, queued until whoever feeds the container's stdin takes
/// them, and the end of input when the client half-closes the connection.
final class HijackedInput: Sendable {
    private struct Queue {
        var chunks: [[UInt8]] = []
        var ended = false
    }

    private let queue = Mutex(Queue())
    private let arrivals = DispatchSemaphore(value: 0)

    func append(_ bytes: [UInt8]) {
        queue.withLock { $0.chunks.append(bytes) }
        arrivals.signal()
    }

    func end() {
        queue.withLock { $0.ended = true }
        arrivals.signal()
    }

    /// Blocks until input arrives: the next bytes, or nil at the end of input.
    func next() -> [UInt8]? {
        while true {
            let taken: [UInt8]?? = queue.withLock { queue in
                if !queue.chunks.isEmpty { return .some(queue.chunks.removeFirst()) }
                return queue.ended ? .some(nil) : nil
            }
            if let taken { return taken }
            arrivals.wait()
        }
    }

    /// Hands every chunk to `deliver` until the end of input or until it returns false;
    /// whether the input ended (rather than the receiver going away).
    @discardableResult
    func drain(into deliver: ([UInt8]) -> Bool) -> Bool {
        while let bytes = next() {
            guard deliver(bytes) else { return false }
        }
        return true
    }
}

/// After the upgrade: hands what the client sends to `input` (nil: dropped, the caller
/// did not ask for stdin), and keeps the connection open when the client half-closes
/// it (the output still flows), marking the end of its input.
final class HijackedInputHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let input: HijackedInput?

    init(input: HijackedInput?) {
        self.input = input
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let input else { return }
        let buffer = unwrapInboundIn(data)
        input.append(Array(buffer.readableBytesView))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            input?.end()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        input?.end()
        context.fireChannelInactive()
    }
}

/// The `h` and `w` query parameters of the resize endpoints: a terminal's rows and columns.
package struct TerminalSize {
    let rows: UInt16
    let columns: UInt16

    package init(_ request: APIRequest) throws(SwiftletError) {
        guard let rows = request.query["h"].flatMap({ UInt16($0) }), let columns = request.query["w"].flatMap({ UInt16($0) }) else {
            throw SwiftletError("resize needs h and w: the terminal's rows and columns", code: .invalidArgument)
        }
        self.rows = rows
        self.columns = columns
    }

    var size: winsize { winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0) }
}
