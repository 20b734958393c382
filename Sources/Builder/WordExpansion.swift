import HostSystem

/// Docker's builder-side word processing (Dockerfile reference: "Environment replacement"):
/// `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
/// `${VAR:?message}`, `${VAR?message}`, single and double quotes, and the escape character,
/// as moby/buildkit's shell lexer does them. An unset variable expands to nothing.
public struct WordExpander: Sendable {
    public let escape: Unicode.Scalar

    public init(escape: Character = "\\") {
        self.escape = escape.unicodeScalars.first ?? "\\"
    }

    /// `word` with quotes removed and variables replaced; spaces inside it kept.
    public func expand(_ word: String, environment: [String: String]) throws -> String {
        try process(word, environment: environment).text
    }

    /// `word` expanded, then split into words at unquoted whitespace (what EXPOSE does).
    public func expandToWords(_ word: String, environment: [String: String]) throws -> [String] {
        try process(word, environment: environment).words
    }

    private func process(_ word: String, environment: [String: String]) throws -> (text: String, words: [String]) {
        var scanner = ScalarScanner(Array(word.unicodeScalars), escape: escape, environment: environment)
        do {
            return try scanner.processUntil(nil)
        } catch let error as ExpansionFailure {
            throw SwiftletError("failed to process \(GoFormat.quote(word)): \(error.message)", code: .invalidArgument)
        }
    }
}

/// Why a word could not be expanded, in the lexer's words.
private struct ExpansionFailure: Error {
    let message: String
}

/// The words being built while a text is expanded: variables' values split at whitespace,
/// quoted text and escaped characters kept whole.
private struct WordCollector {
    var words: [String] = []
    var current = ""
    var inWord = false

    mutating func add(_ scalar: Unicode.Scalar) {
        if scalar.properties.isWhitespace {
            if inWord, !current.isEmpty {
                words.append(current)
                current = ""
                inWord = false
            }
        } else {
            addRaw(scalar)
        }
    }

    mutating func addRaw(_ scalar: Unicode.Scalar) {
        current.unicodeScalars.append(scalar)
        inWord = true
    }

    mutating func add(_ text: String) { text.unicodeScalars.forEach { add($0) } }

    mutating func addRaw(_ text: String) {
        current += text
        inWord = true
    }

    mutating func finish() -> [String] {
        if !current.isEmpty { words.append(current) }
        return words
    }
}

private struct ScalarScanner {
    let scalars: [Unicode.Scalar]
    let escape: Unicode.Scalar
    let environment: [String: String]
    var position = 0

    init(_ scalars: [Unicode.Scalar], escape: Unicode.Scalar, environment: [String: String]) {
        self.scalars = scalars
        self.escape = escape
        self.environment = environment
    }

    var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    mutating func next() -> Unicode.Scalar? {
        defer { position += 1 }
        return peek
    }

    /// Text up to `stop` (consumed) or the end, with quotes, escapes and variables processed.
    mutating func processUntil(_ stop: Unicode.Scalar?) throws -> (text: String, words: [String]) {
        var text = ""
        var words = WordCollector()
        while let scalar = peek {
            if let stop, scalar == stop {
                position += 1
                return (text, words.finish())
            }
            switch scalar {
            case "$":
                let value = try dollar()
                text += value
                words.add(value)
            case "'":
                let value = try singleQuoted()
                text += value
                words.addRaw(value)
            case "\"":
                let value = try doubleQuoted()
                text += value
                words.addRaw(value)
            default:
                position += 1
                if scalar == escape {
                    guard let escaped = next() else { break }
                    words.addRaw(escaped)
                    text.unicodeScalars.append(escaped)
                } else {
                    words.add(scalar)
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        if let stop {
            throw ExpansionFailure(message: "unexpected end of statement while looking for matching \(stop)")
        }
        return (text, words.finish())
    }

    /// Everything up to the closing `'` as it is.
    mutating func singleQuoted() throws -> String {
        position += 1
        var text = ""
        while let scalar = next() {
            if scalar == "'" { return text }
            text.unicodeScalars.append(scalar)
        }
        throw ExpansionFailure(message: "unexpected end of statement while looking for matching single-quote")
    }

    /// Up to the closing `"`: variables expanded, the escape character escaping `"`, `$`
    /// and itself and otherwise kept.
    mutating func doubleQuoted() throws -> String {
        position += 1
        var text = ""
        while true {
            guard let scalar = peek else {
                throw ExpansionFailure(message: "unexpected end of statement while looking for matching double-quote")
            }
            if scalar == "\"" {
                position += 1
                return text
            }
            if scalar == "$" {
                text += try dollar()
                continue
            }
            position += 1
            var character = scalar
            if scalar == escape {
                guard let following = peek else { continue }
                if following == "\"" || following == "$" || following == escape {
                    character = following
                    position += 1
                }
            }
            text.unicodeScalars.append(character)
        }
    }

    /// `$name`, `${name}` or `${name<modifier>word}` at `$`.
    mutating func dollar() throws -> String {
        position += 1
        guard peek == "{" else {
            let name = readName()
            return name.isEmpty ? "$" : environment[name] ?? ""
        }
        position += 1
        switch peek {
        case nil: throw ExpansionFailure(message: "syntax error: missing '}'")
        case "{", "}", ":": throw ExpansionFailure(message: "syntax error: bad substitution")
        default: break
        }
        let name = readName()
        guard let modifier = next() else { throw ExpansionFailure(message: "syntax error: missing '}'") }
        if modifier == "}" { return environment[name] ?? "" }
        var operation = modifier
        var nullIsUnset = false
        var spelled = String(modifier)
        if modifier == ":" {
            nullIsUnset = true
            guard let following = next() else { throw ExpansionFailure(message: "syntax error: missing '}'") }
            operation = following
            spelled.unicodeScalars.append(following)
        }
        guard operation == "-" || operation == "+" || operation == "?" else {
            throw ExpansionFailure(message: "unsupported modifier (\(spelled)) in substitution")
        }
        let word: String
        do {
            word = try processUntil("}").text
        } catch let failure as ExpansionFailure {
            throw peek == nil ? ExpansionFailure(message: "syntax error: missing '}'") : failure
        }
        let value = environment[name]
        let isUnset = value == nil || (nullIsUnset && value == "")
        switch operation {
        case "-": return isUnset ? word : value ?? ""
        case "+": return isUnset ? "" : word
        default:
            guard let value else { throw ExpansionFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)") }
            if isUnset { throw ExpansionFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be empty" : word)") }
            return value
        }
    }

    /// A variable name: letters, digits and `_`; a run of digits; or one special parameter.
    mutating func readName() -> String {
        var name = ""
        while let scalar = peek {
            let isDigit = scalar.properties.numericType == .decimal
            if name.isEmpty, isDigit {
                while let digit = peek, digit.properties.numericType == .decimal {
                    name.unicodeScalars.append(digit)
                    position += 1
                }
                return name
            }
            if name.isEmpty, "@*#?-$!0".unicodeScalars.contains(scalar) {
                position += 1
                return String(scalar)
            }
            guard scalar.properties.isAlphabetic || isDigit || scalar == "_" else { break }
            name.unicodeScalars.append(scalar)
            position += 1
        }
        return name
    }
}
