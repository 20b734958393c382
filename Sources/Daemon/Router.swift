import HostSystem
import Runtime
import NIOHTTP1

/// The Engine API's routing, as moby's `api/server`: every route answers under
/// `/vX.Y/path` and `/path`; a version outside the supported range is a 400, an unknown
/// path a 404 `{"message":"page not found"}`, and a thrown `SwiftletError` the HTTP
/// status of its code. Each API area (system, containers, images, volumes) adds its
/// routes from its own file.
public struct Router: Sendable {
    public typealias Handler = @Sendable (APIRequest, [String: String]) async throws -> APIResponse

    private struct Route: Sendable {
        let method: HTTPMethod
        let segments: [Substring]
        let handler: Handler
    }

    private var routes: [Route] = []

    public init() {}

    /// Adds a route; `{name}` in `pattern` matches one path segment, handed to the handler.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, segments: pattern.split(separator: "/"), handler: handler))
    }

    /// The response to `request`.
    public func respond(to request: APIRequest) async -> APIResponse {
        if let version = request.version, let refusal = Self.refuse(version: version) { return .error(refusal) }
        let segments = request.path.split(separator: "/")
        var pathMatched = false
        for route in routes {
            guard let parameters = Self.match(route.segments, segments) else { continue }
            pathMatched = true
            guard route.method == request.method || (route.method == .GET && request.method == .HEAD) else { continue }
            do {
                return try await route.handler(request, parameters)
            } catch let error as SwiftletError {
                return .error(error)
            } catch {
                return .error(SwiftletError("\(error)"))
            }
        }
        return .error(SwiftletError(pathMatched ? "method \(request.method) not allowed" : "page not found",
                                    code: pathMatched ? .invalidArgument : .notFound))
    }

    /// moby's answer to a version outside [minimum, maximum].
    static func refuse(version: String) -> SwiftletError? {
        guard let requested = APIVersion(version) else {
            return SwiftletError("invalid API version \(version)", code: .invalidArgument)
        }
        if requested > APIVersion.maximum {
            return SwiftletError("client version \(version) is too new. Maximum supported API version is \(APIVersion.maximum)",
                                 code: .invalidArgument)
        }
        if requested < APIVersion.minimum {
            return SwiftletError("client version \(version) is too old. Minimum supported API version is \(APIVersion.minimum), please upgrade your client to a newer version",
                                 code: .invalidArgument)
        }
        return nil
    }

    /// `{name*}` matches one or more segments (an image name has slashes: moby's
    /// `{name:.*}`); `{name}` exactly one.
    private static func match(_ pattern: [Substring], _ path: [Substring]) -> [String: String]? {
        if let greedy = pattern.firstIndex(where: { $0.hasSuffix("*}") }) {
            let extra = path.count - pattern.count
            guard extra >= 0 else { return nil }
            let name = String(pattern[greedy].dropFirst().dropLast(2))
            let joined = path[greedy...(greedy + extra)].joined(separator: "/")
            let rest = Array(pattern[..<greedy]) + ["{\(name)}"] + Array(pattern[(greedy + 1)...])
            let collapsed = Array(path[..<greedy]) + [Substring(joined)] + Array(path[(greedy + extra + 1)...])
            return match(rest, collapsed)
        }
        guard pattern.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, path) {
            if expected.hasPrefix("{") && expected.hasSuffix("}") {
                parameters[String(expected.dropFirst().dropLast())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}

/// An Engine API version, `major.minor`, ordered numerically (1.9 < 1.24 < 1.44).
public struct APIVersion: Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    /// The version swiftletd claims in `/_ping` and `/version`: the 28.2 CLI and
    /// docker-py then use their current code paths (ENGINE-API notes §0).
    public static let maximum = APIVersion(major: SwiftletVersion.api.major, minor: SwiftletVersion.api.minor)
    /// The oldest version accepted in a path, as dockerd 20.10.
    public static let minimum = APIVersion(major: 1, minor: 12)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: APIVersion, rhs: APIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
