import Foundation
import Images
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

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

    public init() {}
}

/// An HTTP client for one registry, speaking the OCI distribution-spec (spec.md: `/v2/`
/// endpoints for manifests and blobs, chunk-less monolithic uploads) with Docker's token
/// authentication: a 401 carrying `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
/// sends the client to the realm for a token (with basic credentials when given), and
/// `WWW-Authenticate: Basic` gets the credentials directly. Requests are synchronous.
final class RegistryClient: @unchecked Sendable {
    let host: String
    private let options: RegistryOptions
    private let session: URLSession
    private let downloads = BlobDownloads()
    private let baseURL: String
    /// Authorization header values by scope, reused across requests.
    private var authorizations: [String: String] = [:]

    init(host: String, options: RegistryOptions) {
        self.host = host == "docker.io" ? "registry-1.docker.io" : host
        self.options = options
        baseURL = "\(options.insecure ? "http" : "https")://\(self.host)"
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration, delegate: downloads, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// The response of a request that had no body to download to a file.
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: Data

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Sends a request, authenticating on 401 and retrying transient failures (downloads are
    /// retried by the caller, which also retries a blob that arrives corrupted).
    func send(_ method: String, _ path: String, scope: String, headers: [String: String] = [:],
              body: Data? = nil, bodyFile: String? = nil, download: String? = nil) throws -> Response {
        var attempt = 0
        while true {
            do {
                var response = try perform(method, path, scope: scope, headers: headers, body: body, bodyFile: bodyFile, download: download)
                if response.status == 401, let challenge = response.header("WWW-Authenticate") {
                    try authenticate(challenge, scope: scope)
                    response = try perform(method, path, scope: scope, headers: headers, body: body, bodyFile: bodyFile, download: download)
                }
                if response.status >= 500 && attempt < options.retries {
                    attempt += 1
                    Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
                    continue
                }
                return response
            } catch let error as ImageError where error.message.hasPrefix("network:") && download == nil && attempt < options.retries {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
    }

    /// Resolves a possibly relative `Location` header against the registry.
    func absolute(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : baseURL + location
    }

    private func perform(_ method: String, _ path: String, scope: String, headers: [String: String],
                         body: Data?, bodyFile: String?, download: String?) throws -> Response {
        let urlText = path.hasPrefix("http") ? path : baseURL + path
        guard let url = URL(string: urlText) else { throw ImageError("invalid registry URL \(urlText)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let authorization = authorizations[scope] { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let box = ResultBox()
        let task: URLSessionTask
        if let download {
            // Streamed into `download` by the session's delegate, not through a download
            // task: Foundation on Linux leaves a download task's temporary file in /tmp
            // when the transfer fails.
            let file = open(download, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard file >= 0 else { throw ImageError("cannot create \(download): \(errnoText())") }
            let dataTask = session.dataTask(with: request)
            downloads.begin(dataTask, file: file, path: download, box: box)
            task = dataTask
        } else if let bodyFile {
            task = session.uploadTask(with: request, fromFile: URL(fileURLWithPath: bodyFile)) { box.set($0, $1, $2) }
        } else if let body {
            task = session.uploadTask(with: request, from: body) { box.set($0, $1, $2) }
        } else {
            task = session.dataTask(with: request) { box.set($0, $1, $2) }
        }
        task.resume()
        let progress = options.progress && download != nil ? ProgressLine(label: String(path.suffix(71).prefix(19))) : nil
        while !box.wait(seconds: 0.2) {
            progress?.update(task.countOfBytesReceived, of: task.countOfBytesExpectedToReceive)
        }
        progress?.done(task.countOfBytesReceived)
        let (data, response, error) = box.get()
        if let error {
            throw ImageError("network: \(method) \(urlText) failed: \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ImageError("network: \(method) \(urlText): no HTTP response") }
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            if let key = key as? String, let value = value as? String { fields[key] = value }
        }
        return Response(status: http.statusCode, headers: fields, body: data ?? Data())
    }

    /// Handles a 401 challenge: fetches a bearer token or prepares basic credentials.
    private func authenticate(_ challenge: String, scope: String) throws {
        let (scheme, parameters) = Self.parseChallenge(challenge)
        let basic = options.username.map { user in
            "Basic " + Data("\(user):\(options.password ?? "")".utf8).base64EncodedString()
        }
        switch scheme.lowercased() {
        case "basic":
            guard let basic else { throw ImageError("\(host) requires a username and password (--username, password on stdin)") }
            authorizations[scope] = basic
        case "bearer":
            guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
                throw ImageError("\(host) sent a bearer challenge without a realm")
            }
            var query = components.queryItems ?? []
            if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            query.append(URLQueryItem(name: "scope", value: parameters["scope"] ?? scope))
            components.queryItems = query
            guard let url = components.url else { throw ImageError("\(host) sent an invalid token realm '\(realm)'") }
            var request = URLRequest(url: url)
            if let basic { request.setValue(basic, forHTTPHeaderField: "Authorization") }
            let box = ResultBox()
            session.dataTask(with: request) { box.set($0, $1, $2) }.resume()
            _ = box.wait(seconds: 120)
            let (data, response, error) = box.get()
            guard error == nil, let http = response as? HTTPURLResponse, http.statusCode == 200, let data else {
                throw ImageError("network: token request to \(realm) failed: \(error?.localizedDescription ?? "HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")")
            }
            let token = try decodeJSON(TokenResponse.self, from: data, what: "token response from \(realm)")
            guard let value = token.token ?? token.access_token else { throw ImageError("token response from \(realm) has no token") }
            authorizations[scope] = "Bearer \(value)"
        default:
            throw ImageError("\(host) asks for unsupported authentication '\(scheme)'")
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

/// Writes the bodies of blob downloads (data tasks without a completion handler) into
/// their files as they arrive, and hands each task's end to its waiting caller.
private final class BlobDownloads: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var files: [Int: (fd: Int32, path: String, box: ResultBox)] = [:]

    func begin(_ task: URLSessionTask, file: Int32, path: String, box: ResultBox) {
        lock.withLock { files[task.taskIdentifier] = (file, path, box) }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let (file, path, _) = lock.withLock({ files[dataTask.taskIdentifier] }) else { return }
        do {
            try data.withUnsafeBytes { try writeAll(file, $0, path: path) }
        } catch {
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let (file, _, box) = lock.withLock({ files.removeValue(forKey: task.taskIdentifier) }) else { return }
        close(file)
        box.set(Data(), task.response, error)
    }
}

/// Carries a URLSession completion from its queue to the waiting caller.
private final class ResultBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: (Data?, URLResponse?, (any Error)?) = (nil, nil, nil)

    func set(_ data: Data?, _ response: URLResponse?, _ error: (any Error)?) {
        lock.withLock { result = (data, response, error) }
        semaphore.signal()
    }

    func wait(seconds: Double) -> Bool {
        semaphore.wait(timeout: .now() + seconds) == .success
    }

    func get() -> (Data?, URLResponse?, (any Error)?) {
        lock.withLock { result }
    }
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
