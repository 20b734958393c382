import HostSystem

/// The patterns of a `.dockerignore` file and the matching Docker applies to the build
/// context (Dockerfile reference: ".dockerignore file"; moby/patternmatcher): Go's
/// `filepath.Match` syntax plus `**`, later patterns overriding earlier ones, `!` making an
/// exception, a pattern matching a directory excluding everything under it.
public struct DockerIgnore: Sendable {
    public private(set) var patterns: [IgnorePattern]

    /// No patterns: nothing is excluded.
    public init() {
        patterns = []
    }

    /// The patterns of a .dockerignore file's text: `#` comment lines and blank lines
    /// skipped, each pattern trimmed, cleaned and made relative (a leading `/` dropped).
    public init(parsing text: String) throws {
        var lines: [String] = []
        // Split at LF scalars (a CR before one dropped): "\r\n" is one Character to Swift.
        for (number, rawLine) in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = String(String.UnicodeScalarView(rawLine.last == "\r" ? rawLine.dropLast() : rawLine))
            if number == 0, line.unicodeScalars.first == "\u{FEFF}" { line = String(line.unicodeScalars.dropFirst()) }
            if line.hasPrefix("#") { continue }
            var pattern = line.trimmingWhitespace()
            guard !pattern.isEmpty else { continue }
            let isException = pattern.hasPrefix("!")
            if isException { pattern = String(pattern.dropFirst()).trimmingWhitespace() }
            if !pattern.isEmpty {
                pattern = cleanPath(pattern)
                if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
            }
            lines.append(isException ? "!" + pattern : pattern)
        }
        try self.init(patterns: lines)
    }

    /// Patterns as the Docker CLI passes them (`!` for exceptions).
    public init(patterns lines: [String]) throws {
        patterns = []
        for line in lines {
            var text = line.trimmingWhitespace()
            guard !text.isEmpty else { continue }
            text = cleanPath(text)
            let isException = text.hasPrefix("!")
            if isException {
                guard text.count > 1 else { throw SwiftletError("illegal exclusion pattern: \"!\"", code: .invalidArgument) }
                text.removeFirst()
            }
            patterns.append(try IgnorePattern(text, isException: isException))
        }
    }

    /// These patterns with exceptions for `paths` that they exclude, as the Docker CLI keeps
    /// the Dockerfile and .dockerignore in the context it sends.
    public func keeping(_ paths: [String]) throws -> DockerIgnore {
        var copy = self
        for path in paths where excludes(path) {
            copy.patterns.append(try IgnorePattern(cleanPath(path), isException: true))
        }
        return copy
    }

    /// Whether `path` (relative to the context, `/`-separated) is excluded: the last pattern
    /// that matches it or one of its parent directories decides (patternmatcher's
    /// `MatchesOrParentMatches`).
    public func excludes(_ path: String) -> Bool {
        let scalars = Array(path.unicodeScalars)
        let parent = cleanParent(path)
        let parentDirectories = parent == "." ? [] : parent.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var matched = false
        for pattern in patterns where pattern.isException == matched {
            var match = pattern.matches(scalars)
            if !match {
                for count in parentDirectories.indices.map({ $0 + 1 }) {
                    let prefix = parentDirectories[..<count].joined(separator: "/")
                    if pattern.matches(Array(prefix.unicodeScalars)) {
                        match = true
                        break
                    }
                }
            }
            if match { matched = !pattern.isException }
        }
        return matched
    }

    /// Go's `filepath.Dir`: everything before the last `/`, cleaned; `.` when there is none.
    private func cleanParent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return cleanPath(String(path[..<slash]).isEmpty ? "/" : String(path[..<slash]))
    }
}

/// One .dockerignore pattern, compiled as moby/patternmatcher compiles it.
public struct IgnorePattern: Sendable {
    /// The cleaned pattern, without its `!`.
    public let text: String
    public let isException: Bool
    private let kind: Kind
    private let tokens: [Token]

    private enum Kind: Sendable {
        /// No wildcard: the path equals the pattern.
        case exact
        /// `dir/**`-like: the path starts with the text before the `**`.
        case prefix(String)
        /// `**/name`-like: the path ends with the text after the `**`.
        case suffix(String)
        case wildcard
    }

    private enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        /// `?`: one character but `/`.
        case oneNotSlash
        /// `*`: any run of characters without `/`.
        case runNotSlash
        /// `**` at the end: anything.
        case anything
        /// `**/` (or `**` inside): nothing or anything ending in `/`.
        case directories
        /// `[…]`: a character in (or with `^`, not in) the ranges.
        case set(negated: Bool, ranges: [ClosedRange<UInt32>])
    }

    /// Compiles `text`; without `globstar`, `**` is two `*` as in Go's `filepath.Match` (what
    /// COPY sources use).
    init(_ text: String, isException: Bool, globstar: Bool = true) throws {
        self.text = text
        self.isException = isException
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var kind = Kind.exact
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let isFirst = index == 0
            index += 1
            switch scalar {
            case "*":
                guard globstar, index < scalars.count, scalars[index] == "*" else {
                    tokens.append(.runNotSlash)
                    kind = .wildcard
                    continue
                }
                index += 1
                if index < scalars.count, scalars[index] == "/" { index += 1 }
                if index == scalars.count {
                    if case .exact = kind { kind = .prefix(String(String.UnicodeScalarView(scalars.dropLast(2)))) } else { kind = .wildcard }
                    tokens.append(.anything)
                } else {
                    tokens.append(.directories)
                    kind = .wildcard
                }
                if isFirst { kind = .suffix(String(String.UnicodeScalarView(scalars.dropFirst(2)))) }
            case "?":
                tokens.append(.oneNotSlash)
                kind = .wildcard
            case "\\":
                guard index < scalars.count else { throw SwiftletError("syntax error in pattern", code: .invalidArgument) }
                tokens.append(.literal(scalars[index]))
                index += 1
                kind = .wildcard
            case "[":
                let (set, next) = try Self.parseSet(scalars, from: index)
                tokens.append(set)
                index = next
                kind = .wildcard
            case "]":
                tokens.append(.literal(scalar))
                kind = .wildcard
            default:
                tokens.append(.literal(scalar))
            }
        }
        self.kind = kind
        self.tokens = tokens
    }

    /// A `[…]` set starting after `[`; returns the token and the index after `]`.
    private static func parseSet(_ scalars: [Unicode.Scalar], from start: Int) throws -> (Token, Int) {
        let invalid = SwiftletError("syntax error in pattern", code: .invalidArgument)
        var index = start
        var negated = false
        if index < scalars.count, scalars[index] == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        func element() throws -> UInt32 {
            guard index < scalars.count else { throw invalid }
            if scalars[index] == "\\" { index += 1 }
            guard index < scalars.count else { throw invalid }
            defer { index += 1 }
            return scalars[index].value
        }
        while true {
            guard index < scalars.count else { throw invalid }
            if scalars[index] == "]", !ranges.isEmpty { return (.set(negated: negated, ranges: ranges), index + 1) }
            if scalars[index] == "]" || scalars[index] == "-" { throw invalid }
            let low = try element()
            var high = low
            if index < scalars.count, scalars[index] == "-" {
                index += 1
                guard index < scalars.count, scalars[index] != "]" else { throw invalid }
                high = try element()
                guard low <= high else { throw invalid }
            }
            ranges.append(low...high)
        }
    }

    /// Whether the whole of `path` matches.
    func matches(_ path: [Unicode.Scalar]) -> Bool {
        switch kind {
        case .exact:
            return path.elementsEqual(text.unicodeScalars)
        case .prefix(let prefix):
            return path.starts(with: prefix.unicodeScalars)
        case .suffix(let suffix):
            let suffixScalars = Array(suffix.unicodeScalars)
            if path.count >= suffixScalars.count, path[(path.count - suffixScalars.count)...].elementsEqual(suffixScalars) { return true }
            return suffixScalars.first == "/" && path.elementsEqual(suffixScalars.dropFirst())
        case .wildcard:
            return matchTokens(path)
        }
    }

    /// Simulates the tokens over `path`: the set of positions reachable after each token,
    /// each token in one pass over the path.
    private func matchTokens(_ path: [Unicode.Scalar]) -> Bool {
        var reachable = [Bool](repeating: false, count: path.count + 1)
        reachable[0] = true
        for token in tokens {
            var next = [Bool](repeating: false, count: path.count + 1)
            switch token {
            case .literal, .oneNotSlash, .set:
                for position in path.indices where reachable[position] && accepts(token, path[position]) {
                    next[position + 1] = true
                }
            case .runNotSlash:
                // Reachable, or one past a reachable run of characters that are not `/`.
                var carried = false
                for position in reachable.indices {
                    carried = reachable[position] || (carried && path[position - 1] != "/")
                    next[position] = carried
                }
            case .anything:
                if let first = reachable.firstIndex(of: true) {
                    for position in first...path.count { next[position] = true }
                }
            case .directories:
                // Reachable, or just after a `/` at or after a reachable position.
                var seen = false
                for position in reachable.indices {
                    next[position] = reachable[position] || (seen && path[position - 1] == "/")
                    seen = seen || reachable[position]
                }
            }
            reachable = next
            guard reachable.contains(true) else { return false }
        }
        return reachable[path.count]
    }

    private func accepts(_ token: Token, _ scalar: Unicode.Scalar) -> Bool {
        switch token {
        case .literal(let expected): scalar == expected
        case .oneNotSlash: scalar != "/"
        case .set(let negated, let ranges): ranges.contains { $0.contains(scalar.value) } != negated
        default: false
        }
    }
}
