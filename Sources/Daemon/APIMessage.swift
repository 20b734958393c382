import Foundation
import HostSystem
import NIOCore
import NIOHTTP1

/// One Engine API request as the routers see it: the method, the path without its
/// `/vX.Y` prefix, the API version the client asked for (nil without a prefix), the query
/// and the body.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var version: String?
    /// The query's parameters; a repeated one keeps its last value.
    public var query: [String: String]
    /// Every value of each parameter, in order (`changes=…&changes=…`).
    public var queryValues: [String: [String]]
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    /// Splits `uri` (`/v1.44/containers/json?all=1`) into version, path and query.
    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.headers = headers
        self.body = body
        let components = URLComponents(string: uri)
        var path = components?.percentEncodedPath ?? uri
        if path.hasPrefix("/v"), let slash = path.dropFirst(2).firstIndex(of: "/"),
           path[path.index(path.startIndex, offsetBy: 2)..<slash].allSatisfy({ $0.isNumber || $0 == "." }) {
            version = String(path[path.index(path.startIndex, offsetBy: 2)..<slash])
            path = String(path[slash...])
        } else {
            version = nil
        }
        self.path = path.removingPercentEncoding ?? path
        // Form encoding, as Go's url.Values writes it: '+' is a space, %XX a byte.
        let items = (components?.percentEncodedQuery ?? "").split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                let text = $0.replacingOccurrences(of: "+", with: " ")
                return text.removingPercentEncoding ?? text
            }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        query = Dictionary(items) { _, last in last }
        queryValues = Dictionary(items.map { ($0.0, [$0.1]) }) { $0 + $1 }
    }

    /// A query flag as moby reads one: `1`, `true` (any case) and `True` are true.
    public func flag(_ name: String) -> Bool {
        query[name].map(Self.isTrue) ?? false
    }

    /// Whether a query or filter value reads as true: `1`, or `true` in any case.
    public static func isTrue(_ value: String) -> Bool {
        value == "1" || value.lowercased() == "true"
    }
}

/// One Engine API response: status, extra headers and a body (JSON, text or nothing), or
/// a streamed body: the head goes out at once (moby flushes it before `wait` blocks, and
/// the client waits for it), then whatever `stream` writes, chunked.
public struct APIResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: [(String, String)]
    public var body: ByteBuffer
    public var stream: (@Sendable (BodyWriter) async throws -> Void)?

    public init(status: HTTPResponseStatus = .ok, headers: [(String, String)] = [], body: ByteBuffer = ByteBuffer(),
                stream: (@Sendable (BodyWriter) async throws -> Void)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }

    /// A 204 without a body (moby's answer to start, stop, kill, remove).
    public static let noContent = APIResponse(status: .noContent)

    /// `value` encoded as JSON (Docker's field names are the Codable keys).
    public static func json<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok) throws -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode(value)
        return APIResponse(status: status, headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: data))
    }

    /// moby's error body, `{"message": …}`, with the status of the error's code.
    public static func error(_ error: SwiftletError) -> APIResponse {
        let body = (try? JSONEncoder().encode(["message": error.description])) ?? Data()
        return APIResponse(status: HTTPResponseStatus(statusCode: error.code.httpStatus),
                           headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: body))
    }
}

/// Writes the parts of a streamed response body to the client as they are produced.
public struct BodyWriter: Sendable {
    let channel: any Channel

    public func write(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    /// ``write(_:)`` from a thread outside the event loop that may block (a log follower).
    public func writeBlocking(_ buffer: ByteBuffer) throws {
        try channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).wait()
    }

    /// `value` as one line of JSON (moby's streams are newline-separated JSON objects).
    public func writeJSON<T: Encodable>(_ value: T) async throws {
        var data = try JSONEncoder().encode(value)
        data.append(UInt8(ascii: "\n"))
        try await write(ByteBuffer(bytes: data))
    }
}
