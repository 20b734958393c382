import Foundation
import HostSystem
import Images

/// The image endpoints (moby's `api/server/router/image`): so far the list, `GET
/// /images/json` with its `dangling` and `reference` filters, in dockerd's shape
/// (`docker images` prints it).
public enum ImageRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/images/json") { request, _ in
            let filters = try Filters(request.query["filters"])
            var filter = ImageListFilter()
            for (key, values) in filters.values {
                for value in values { try filter.add(key, value) }
            }
            let chosen = filter
            return try .json(try await blocking { chosen.apply(try engine.images().list()).map(Summary.init) })
        }
    }

    struct Summary: Encodable {
        var Id: String
        var ParentId = ""
        var RepoTags: [String]
        var RepoDigests: [String]
        var Created: Int
        var Size: Int64
        /// -1 in the list (not computed), as dockerd; `system df` sets it.
        var SharedSize: Int64 = -1
        var Labels: [String: String]? = nil
        var Containers = -1

        init(_ image: ImageSummary) {
            Id = image.id.description
            RepoTags = image.references.map(ImageReference.familiar)
            RepoDigests = Set(RepoTags.map(repository)).sorted().map { "\($0)@\(image.digest)" }
            Created = image.created.flatMap { CreatedTime.parse($0) } ?? 0
            Size = image.size
        }
    }

    /// A reference without its tag or digest: `127.0.0.1:5000/a/b:1` → `127.0.0.1:5000/a/b`.
    static func repository(_ reference: String) -> String {
        let name = reference.prefix { $0 != "@" }
        let lastSlash = name.lastIndex(of: "/") ?? name.startIndex
        guard let colon = name[lastSlash...].lastIndex(of: ":") else { return String(name) }
        return String(name[..<colon])
    }
}

/// An image config's RFC 3339 `created` time as Unix seconds.
enum CreatedTime {
    static func parse(_ text: String) -> Int? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int(date.timeIntervalSince1970) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int($0.timeIntervalSince1970) }
    }
}
