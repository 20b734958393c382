import HostSystem

/// COPY/ADD source arguments resolved to the paths they name (Dockerfile reference: "COPY",
/// "ADD": sources are relative to the context, may hold Go `filepath.Match` wildcards, and
/// `..` cannot leave the context), as Docker's classic builder's copier resolves them.
public enum CopySources {
    /// The paths `sources` name among `available` (relative, `/`-separated, as
    /// ``BuildContext/visiblePaths()`` lists them; a directory's descendants listed too):
    /// a plain source as itself (`.` for the whole context), a wildcard source as every path
    /// it matches (none inside a directory it already matched), URLs (ADD only) unchanged.
    public static func resolve(_ sources: [String], among available: [String], isAdd: Bool) throws -> [String] {
        let instruction = isAdd ? "ADD" : "COPY"
        let availableSet = Set(available)
        var resolved: [String] = []
        for source in sources {
            if isAdd, source.hasPrefix("http://") || source.hasPrefix("https://") {
                resolved.append(source)
                continue
            }
            let relative = relativeToRoot(source)
            guard hasWildcards(relative) else {
                guard relative == "." || availableSet.contains(relative) else {
                    throw SwiftletError("\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(source): file does not exist", code: .notFound)
                }
                resolved.append(relative)
                continue
            }
            let pattern = try IgnorePattern(relative, isException: false, globstar: false)
            var matchedDirectories: [String] = []
            for path in available where pattern.matches(Array(path.unicodeScalars)) {
                guard !matchedDirectories.contains(where: { path.hasPrefix($0 + "/") }) else { continue }
                matchedDirectories.append(path)
                resolved.append(path)
            }
        }
        guard !resolved.isEmpty else {
            throw SwiftletError("\(instruction) failed: no source files were specified", code: .invalidArgument)
        }
        return resolved
    }

    /// `source` cleaned and without a leading `/` or `./`: sources never leave the root.
    static func relativeToRoot(_ source: String) -> String {
        let cleaned = cleanPath("/" + source)
        return cleaned == "/" ? "." : String(cleaned.dropFirst())
    }

    /// Whether `path` holds an unescaped `*`, `?` or `[` (Docker's `containsWildcards`).
    static func hasWildcards(_ path: String) -> Bool {
        var escaped = false
        for scalar in path.unicodeScalars {
            if escaped {
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "*" || scalar == "?" || scalar == "[" {
                return true
            }
        }
        return false
    }
}
