/// Go's `path.Clean`, which Docker applies to WORKDIR, COPY destinations and .dockerignore
/// patterns: repeated `/` merged, `.` removed, `..` resolved lexically (never above `/`),
/// no trailing `/`; an empty result is `.`.
func cleanPath(_ path: String) -> String {
    guard !path.isEmpty else { return "." }
    let rooted = path.hasPrefix("/")
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        switch part {
        case ".": continue
        case "..":
            if let last = parts.last, last != ".." {
                parts.removeLast()
            } else if !rooted {
                parts.append(part)
            }
        default: parts.append(part)
        }
    }
    let joined = parts.joined(separator: "/")
    if rooted { return "/" + joined }
    return joined.isEmpty ? "." : joined
}

/// `base` and `path` joined and cleaned, as Go's `filepath.Join` does (empty parts skipped).
func joinPath(_ parts: String...) -> String {
    let nonEmpty = parts.filter { !$0.isEmpty }
    return nonEmpty.isEmpty ? "" : cleanPath(nonEmpty.joined(separator: "/"))
}
