import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The filters of `images` (`--filter`, a `REPOSITORY[:TAG]` argument) and of
/// `GET /images/json?filters=` (moby's image list filters): `dangling=true|false`, and
/// `reference=PATTERN`, a shell pattern matched (as Go's path.Match) against each name as
/// Docker prints it, with or without its tag; a matching image shows only its matching names.
public struct ImageListFilter: Sendable {
    public var dangling: Bool?
    public var references: [String] = []

    public init(dangling: Bool? = nil, references: [String] = []) {
        self.dangling = dangling
        self.references = references
    }

    /// Reads `key=value` flags; an unknown key or a bad value is an error in dockerd's words.
    public init(flags: [String]) throws {
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw SwiftletError("bad format of filter (expected name=value)", code: .invalidArgument) }
            try add(parts[0], parts[1])
        }
    }

    /// Adds one filter value.
    public mutating func add(_ key: String, _ value: String) throws {
        switch key {
        case "dangling":
            guard ["true", "false", "1", "0"].contains(value.lowercased()) else {
                throw SwiftletError("Invalid filter 'dangling=\(value)'", code: .invalidArgument)
            }
            dangling = value == "1" || value.lowercased() == "true"
        case "reference":
            references.append(value)
        default:
            throw SwiftletError("invalid filter '\(key)'", code: .invalidArgument)
        }
    }

    /// The images the filters keep, each with only its matching names.
    public func apply(_ images: [ImageSummary]) -> [ImageSummary] {
        images.compactMap { image in
            if let dangling, dangling != image.references.isEmpty { return nil }
            guard !references.isEmpty else { return image }
            let names = image.references.filter { reference in
                let name = ImageReference.familiar(reference)
                return references.contains { fnmatch($0, name, FNM_PATHNAME) == 0 || fnmatch($0, Self.repository(name), FNM_PATHNAME) == 0 }
            }
            return names.isEmpty ? nil : ImageSummary(id: image.id, digest: image.digest, references: names, size: image.size, created: image.created)
        }
    }

    /// A name without its tag: `host:5000/a/b:1` → `host:5000/a/b`.
    static func repository(_ name: String) -> String {
        let lastSlash = name.lastIndex(of: "/") ?? name.startIndex
        guard let colon = name[lastSlash...].lastIndex(of: ":") else { return name }
        return String(name[..<colon])
    }
}
