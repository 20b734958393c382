import Foundation
import HostSystem
import Images

/// Registry logins kept as the docker CLI keeps them: the `auths` map of
/// `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), each entry's `auth` the
/// base64 of `user:password`, under the registry's host (Docker Hub under
/// `https://index.docker.io/v1/`). The same file serves `docker login` and `swiftlet
/// login`; other keys in it are kept as they are. The file is written 0600.
public struct RegistryCredentials: Sendable {
    public let path: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let directory = environment["DOCKER_CONFIG"] ?? "\(environment["HOME"] ?? NSHomeDirectory())/.docker"
        path = "\(directory)/config.json"
    }

    /// The registry host of a login's server (docker's forms: `host[:port]`, with or
    /// without a scheme or path, Docker Hub's `https://index.docker.io/v1/`); Docker Hub
    /// when none is given.
    public static func host(ofServer server: String?) throws(SwiftletError) -> String {
        guard var text = server, !text.isEmpty else { return "docker.io" }
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = String(text.dropFirst(scheme.count)) }
        let host = String(text.prefix { $0 != "/" })
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace }) else {
            throw SwiftletError("invalid registry '\(server ?? "")'", code: .invalidArgument)
        }
        return ["index.docker.io", "registry-1.docker.io"].contains(host) ? "docker.io" : host
    }

    /// The key Docker files a registry's login under.
    public static func key(for host: String) -> String {
        ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(host) ? "https://index.docker.io/v1/" : host
    }

    /// The stored username and password for `host`, if any.
    public func lookup(_ host: String) throws -> (username: String, password: String)? {
        guard let auth = try (entries()[Self.key(for: host)] as? [String: Any])?["auth"] as? String,
              let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
              let colon = decoded.firstIndex(of: ":") else { return nil }
        return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
    }

    public func store(_ host: String, username: String, password: String) throws {
        try change { auths in
            auths[Self.key(for: host)] = ["auth": Data("\(username):\(password)".utf8).base64EncodedString()]
        }
    }

    /// Forgets `host`'s login; whether there was one.
    @discardableResult
    public func remove(_ host: String) throws -> Bool {
        var removed = false
        try change { auths in removed = auths.removeValue(forKey: Self.key(for: host)) != nil }
        return removed
    }

    /// Fills in `options`' credentials from the stored login of `host` when none are given.
    public func apply(to options: inout RegistryOptions, host: String) throws {
        guard options.username == nil, let login = try lookup(host) else { return }
        options.username = login.username
        options.password = login.password
    }

    private func document() throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SwiftletError("\(path) is not a JSON object: fix or remove it", code: .invalidArgument)
        }
        return object
    }

    private func entries() throws -> [String: Any] {
        try document()["auths"] as? [String: Any] ?? [:]
    }

    private func change(_ edit: (inout [String: Any]) -> Void) throws {
        var object = try document()
        var auths = object["auths"] as? [String: Any] ?? [:]
        edit(&auths)
        object["auths"] = auths
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(Array(data) + [UInt8(ascii: "\n")], to: path, permissions: 0o600)
    }
}

extension RegistryOptions {
    /// Checks a login against `host` as `docker login` does: the registry's `/v2/` with
    /// these credentials (through its token service when it has one) must answer 200.
    public func verifyLogin(host: String) async throws {
        try await RegistryClient.withClient(host: host, options: self) { client in
            try await client.checkAccess()
        }
    }
}
