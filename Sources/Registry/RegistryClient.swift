import AsyncHTTPClient
import Foundation
import HostSystem
import Images
import NIOCore
import NIOHTTP1
import Synchronization

/// How to talk to a registry implementing the OCI distribution-spec (spec.md): transport
/// (HTTPS, or plain HTTP with `insecure`), credentials for basic auth or for Docker's token
/// authentication, retry count and progress display.
public struct RegistryOptions: Sendable {
    /// Use plain HTTP instead of HTTPS (for a local registry such as 127.0.0.1:5000).
    public var insecure = false
    /// Username and password for basic auth, or to obtain a bearer token.
    public var username: String?
    public var password: String?
    /// How many times a failed request (network error, 5xx, truncated or corrupt blob) is retried.
    public var retries = 3
    /// Draw progress on standard error (set when it is a terminal).
    public var progress = false
    /// Told each layer's progress during a pull (the daemon's JSON progress stream).
    public var observer: (@Sendable (PullProgress) -> Void)?

    public init() {}

    /// The options a reference gets by default: plain HTTP for a registry on a loopback
    /// address (dockerd treats 127.0.0.0/8 and localhost as insecure registries).
    public static func defaults(for reference: ImageReference) -> RegistryOptions {
        defaults(forHost: reference.host)
    }

    /// The options a registry `host` (`name[:port]`) gets by default (see above).
    public static func defaults(forHost host: String) -> RegistryOptions {
        var options = RegistryOptions()
        let hostname = host.hasPrefix("[") ? String(host.dropFirst().prefix { $0 != "]" }) : String(host.prefix { $0 != ":" })
        options.insecure = hostname == "localhost" || hostname == "::1" || hostname.hasPrefix("127.")
        return options
    }
}

/// An HTTP client for one registry, speaking the OCI distribution-spec (spec.md: `/v2/`
/// endpoints for manifests and blobs, monolithic uploads) over async-http-client, with
/// Docker's token authentication: a 401 carrying `WWW-Authenticate: Bearer
/// realm=…,service=…,scope=…` sends the client to the realm for a token (with basic
/// credentials when given), and `WWW-Authenticate: Basic` gets the credentials directly.
/// A failure to reach the registry is a `SwiftletError` with code `.unavailable`; an
/// HTTP error status becomes the code of ``statusCode(_:)``.
final class RegistryClient: Sendable {
    let host: String
    private let options: RegistryOptions
    private let http: HTTPClient
    private let baseURL: String
    /// Authorization header values by scope, reused across requests.
    private let authorizations = Mutex<[String: String]>([:])
    /// Response bodies other than blobs (manifests, errors, tokens) are read up to this size.
    static let maximumBodySize = 8 << 20
    /// A request whose response head has not arrived by then fails (a blob's body is bound
    /// by the read timeout instead: no bytes for that long fails it).
    static let requestTimeout = TimeAmount.minutes(10)

    init(host: String, options: RegistryOptions, http: HTTPClient) {
        self.host = host == "docker.io" ? "registry-1.docker.io" : host
        self.options = options
        self.http = http
        baseURL = "\(options.insecure ? "http" : "https")://\(self.host)"
    }

    /// The configuration of the HTTP client a transfer uses: connect and read timeouts,
    /// redirects followed (registries send blob downloads to their storage).
    static var configuration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(30), read: .seconds(60)))
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        return configuration
    }

    /// A response whose body (up to ``maximumBodySize``) has been read.
    struct Response {
        let status: Int
        let headers: HTTPHeaders
        let body: Data

        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// What a request sends.
    enum Body {
        case none
        case bytes(Data)
        /// A file's content, streamed (``FileChunks``).
        case file(String, size: Int64)
    }

    /// Sends a request and reads its response, authenticating on 401 and retrying network
    /// failures and 5xx answers.
    func send(_ method: HTTPMethod, _ path: String, scope: String, headers: [String: String] = [:],
              body: Body = .none) async throws -> Response {
        var attempt = 0
        while true {
            do {
                let response = try await execute(method, path, scope: scope, headers: headers, body: body)
                let collected = Response(status: Int(response.status.code), headers: response.headers,
                                         body: Data((try await collect(response.body, method, path)).readableBytesView))
                if collected.status >= 500 && attempt < options.retries {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(200 * attempt))
                    continue
                }
                return collected
            } catch let error as SwiftletError where error.code == .unavailable && attempt < options.retries {
                attempt += 1
                try await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    /// GETs `path` and hands each piece of a 200 response's body to `consume` as it
    /// arrives; any other status is returned, with its body, for the caller's error.
    func download(_ path: String, scope: String, progressLabel: String, report: ((Int64, Int64) -> Void)? = nil,
                  _ consume: (ByteBuffer) throws -> Void) async throws -> Response {
        let response = try await execute(.GET, path, scope: scope, headers: [:], body: .none)
        guard response.status == .ok else {
            return Response(status: Int(response.status.code), headers: response.headers,
                            body: Data((try await collect(response.body, .GET, path)).readableBytesView))
        }
        let progress = options.progress ? ProgressLine(label: progressLabel) : nil
        let expected = response.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        var received: Int64 = 0, reported: Int64 = -1
        do {
            for try await buffer in response.body {
                try consume(buffer)
                let before = received
                received += Int64(buffer.readableBytes)
                // Redrawn (and reported) at the start and once per MiB received; reported
                // at the end too.
                if received >> 20 != before >> 20 || before == 0 {
                    progress?.update(received, of: expected)
                    report?(received, expected)
                    reported = received
                }
            }
        } catch let error as SwiftletError {
            throw error
        } catch {
            throw SwiftletError("GET \(absolute(path)) failed while receiving: \(error)", code: .unavailable)
        }
        progress?.done(received)
        if reported != received { report?(received, expected) }
        return Response(status: 200, headers: response.headers, body: Data())
    }

    /// Runs `body` with a client for `host` (and its own HTTP client, shut down after).
    static func withClient<T: Sendable>(host: String, options: RegistryOptions,
                                        _ body: (RegistryClient) async throws -> T) async throws -> T {
        try await HTTPClient.withHTTPClient(configuration: configuration) { http in
            try await body(RegistryClient(host: host, options: options, http: http))
        }
    }

    /// `GET /v2/`, authenticating as the registry asks: a 200 means these credentials
    /// (or none, where none are needed) are accepted.
    func checkAccess() async throws {
        let response = try await send(.GET, "/v2/", scope: "")
        switch response.status {
        case 200: return
        case 401, 403:
            throw SwiftletError("Get \"\(absolute("/v2/"))\": unauthorized: incorrect username or password", code: .permissionDenied)
        default:
            throw SwiftletError("Get \"\(absolute("/v2/"))\": HTTP \(response.status)", code: Self.statusCode(response.status))
        }
    }

    /// Resolves a possibly relative `Location` header against the registry.
    func absolute(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : baseURL + location
    }

    /// One request with the scope's credentials; on a 401 with a challenge, authenticates
    /// and sends it once more.
    private func execute(_ method: HTTPMethod, _ path: String, scope: String, headers: [String: String],
                         body: Body) async throws -> HTTPClientResponse {
        let response = try await executeOnce(method, path, scope: scope, headers: headers, body: body)
        guard response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate") else {
            return response
        }
        _ = try? await response.body.collect(upTo: Self.maximumBodySize)
        try await authenticate(challenge, scope: scope)
        return try await executeOnce(method, path, scope: scope, headers: headers, body: body)
    }

    private func executeOnce(_ method: HTTPMethod, _ path: String, scope: String, headers: [String: String],
                             body: Body) async throws -> HTTPClientResponse {
        let url = absolute(path)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let authorization = authorizations.withLock({ $0[scope] }) {
            request.headers.replaceOrAdd(name: "Authorization", value: authorization)
        }
        switch body {
        case .none: break
        case .bytes(let data): request.body = .bytes(ByteBuffer(bytes: data))
        case .file(let path, let size): request.body = .stream(try FileChunks(path: path), length: .known(size))
        }
        do {
            return try await http.execute(request, timeout: Self.requestTimeout)
        } catch {
            throw SwiftletError("\(method) \(url) failed: \(error)", code: .unavailable)
        }
    }

    private func collect(_ body: HTTPClientResponse.Body, _ method: HTTPMethod, _ path: String) async throws -> ByteBuffer {
        do {
            return try await body.collect(upTo: Self.maximumBodySize)
        } catch {
            throw SwiftletError("\(method) \(absolute(path)) failed while receiving: \(error)", code: .unavailable)
        }
    }

    /// Handles a 401 challenge: fetches a bearer token or prepares basic credentials.
    private func authenticate(_ challenge: String, scope: String) async throws {
        let (scheme, parameters) = Self.parseChallenge(challenge)
        let basic = options.username.map { user in
            "Basic " + Data("\(user):\(options.password ?? "")".utf8).base64EncodedString()
        }
        switch scheme.lowercased() {
        case "basic":
            guard let basic else {
                throw SwiftletError("\(host) requires a username and password (--username, password on stdin)", code: .permissionDenied)
            }
            authorizations.withLock { $0[scope] = basic }
        case "bearer":
            guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
                throw SwiftletError("\(host) sent a bearer challenge without a realm")
            }
            var query = components.queryItems ?? []
            if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            // A login asks for no scope (an empty one), as `docker login` does.
            if let wanted = parameters["scope"] ?? (scope.isEmpty ? nil : scope) {
                query.append(URLQueryItem(name: "scope", value: wanted))
            }
            components.queryItems = query
            guard let url = components.string else { throw SwiftletError("\(host) sent an invalid token realm '\(realm)'") }
            var request = HTTPClientRequest(url: url)
            if let basic { request.headers.add(name: "Authorization", value: basic) }
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await http.execute(request, timeout: .seconds(120))
                body = try await response.body.collect(upTo: Self.maximumBodySize)
            } catch {
                throw SwiftletError("token request to \(realm) failed: \(error)", code: .unavailable)
            }
            guard response.status == .ok else {
                throw SwiftletError("token request to \(realm) failed: HTTP \(response.status.code)",
                                    code: Self.statusCode(Int(response.status.code)))
            }
            let token = try decodeJSON(TokenResponse.self, from: Data(body.readableBytesView), what: "token response from \(realm)")
            guard let value = token.token ?? token.access_token else { throw SwiftletError("token response from \(realm) has no token") }
            authorizations.withLock { $0[scope] = "Bearer \(value)" }
        default:
            throw SwiftletError("\(host) asks for unsupported authentication '\(scheme)'")
        }
    }

    /// The error code of an HTTP error status: a client error names what was wrong, a
    /// server error or 429 says to try again later.
    static func statusCode(_ status: Int) -> SwiftletError.Code {
        switch status {
        case 401, 403: .permissionDenied
        case 404: .notFound
        case 409: .conflict
        case 429, 500...: .unavailable
        case 400..<500: .invalidArgument
        default: .failed
        }
    }

    /// Splits `Bearer realm="x",service="y"` into the scheme and its parameters.
    static func parseChallenge(_ header: String) -> (String, [String: String]) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        let scheme = String(trimmed.prefix { $0 != " " })
        var parameters: [String: String] = [:]
        var rest = Substring(trimmed.dropFirst(scheme.count))
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: " ,"))
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                let close = rest.firstIndex(of: "\"") ?? rest.endIndex
                value = String(rest[..<close])
                rest = close < rest.endIndex ? rest[rest.index(after: close)...] : ""
            } else {
                let comma = rest.firstIndex(of: ",") ?? rest.endIndex
                value = String(rest[..<comma])
                rest = rest[comma...]
            }
            parameters[key.lowercased()] = value
        }
        return (scheme, parameters)
    }
}

/// A token endpoint's JSON answer (Docker registry token authentication).
private struct TokenResponse: Decodable {
    var token: String?
    var access_token: String?
}

/// One progress line on standard error, redrawn in place.
private struct ProgressLine {
    let label: String

    func update(_ done: Int64, of total: Int64) {
        let width = 30
        let filled = total > 0 ? Int(Double(width) * Double(done) / Double(total)) : 0
        let bar = String(repeating: "=", count: min(filled, width)) + String(repeating: " ", count: max(0, width - filled))
        let text = "\r\(label) [\(bar)] \(done / 1024) KiB" + (total > 0 ? " / \(total / 1024) KiB" : "")
        FileHandle.standardError.write(Data(text.utf8))
    }

    func done(_ total: Int64) {
        FileHandle.standardError.write(Data("\r\(label) done, \(total / 1024) KiB\u{1B}[K\n".utf8))
    }
}
