import HostSystem

/// One instruction as a Dockerfile's text spells it, before its arguments are interpreted:
/// the logical line after parser directives, comments and line continuations are handled
/// (Dockerfile reference: "Format", "Parser directives", "escape"). Lines are counted from 1.
struct InstructionLine: Sendable, Equatable {
    /// The instruction's name in lower case (`run`, `copy`).
    var keyword: String
    /// The instruction's name as written (`Run`), for messages.
    var spelledKeyword: String
    /// `--name=value` flags between the name and the arguments, quotes removed.
    var flags: [String]
    /// The text after the name and flags, trimmed.
    var arguments: String
    /// The whole logical line (continuations joined), as ONBUILD stores it.
    var original: String
    var startLine: Int
    var endLine: Int
}

/// A Dockerfile's text split into instruction lines, with the escape character its
/// `# escape=` directive chose (Dockerfile reference: "Parser directives").
struct DockerfileLines: Sendable, Equatable {
    var escape: Character
    var lines: [InstructionLine]
    /// Docker's warnings, such as an empty line inside a continued instruction.
    var warnings: [String]

    /// Splits `text` as moby/buildkit's `parser.Parse` does: a UTF-8 byte-order mark and
    /// leading whitespace dropped, `#` comment lines skipped (also inside continuations),
    /// the escape character at a line's end joining it to the next, the directives
    /// `escape` and `syntax` read only before anything else.
    static func split(_ text: String) throws -> DockerfileLines {
        var directives = ParserDirectives()
        let physical = physicalLines(text)
        var lines: [InstructionLine] = []
        var warnings: [String] = []
        var index = 0
        while index < physical.count {
            let firstLine = physical[index].trimmingLeadingWhitespace()
            try directives.consider(firstLine, lineNumber: index + 1)
            index += 1
            let startLine = index
            let (start, continues) = directives.trimContinuation(isComment(firstLine) ? "" : firstLine)
            if !continues && start.isEmpty { continue }
            var logical = start
            var stillContinues = continues
            var sawEmptyContinuation = false
            while stillContinues && index < physical.count {
                let next = physical[index]
                try directives.consider(next, lineNumber: index + 1)
                index += 1
                if isComment(next) { continue }
                if next.trimmingLeadingWhitespace().isEmpty {
                    sawEmptyContinuation = true
                    continue
                }
                let (piece, more) = directives.trimContinuation(next)
                logical += piece
                stillContinues = more
            }
            if sawEmptyContinuation {
                warnings.append("[WARNING]: Empty continuation line found in:\n    \(logical)")
            }
            do {
                lines.append(try splitInstruction(logical, startLine: startLine, endLine: index))
            } catch let error as SwiftletError {
                throw SwiftletError("dockerfile parse error on line \(startLine): \(error.message)", code: .invalidArgument)
            }
        }
        if !warnings.isEmpty {
            warnings.append("[WARNING]: Empty continuation lines will become errors in a future release.")
        }
        return DockerfileLines(escape: directives.escape, lines: lines, warnings: warnings)
    }

    /// Lines as Go's `bufio.ScanLines` yields them: split at LF, a CR before it dropped, no
    /// empty line after a final LF; a byte-order mark at the start dropped.
    private static func physicalLines(_ text: String) -> [String] {
        var bytes = Array(text.utf8)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        if bytes.last == 0x0A || bytes.isEmpty { lines.removeLast() }
        return lines
    }

    private static func isComment(_ line: String) -> Bool {
        line.trimmingLeadingWhitespace().hasPrefix("#")
    }

    /// The name, the leading `--flags` and the rest of one logical line.
    static func splitInstruction(_ logical: String, startLine: Int, endLine: Int) throws -> InstructionLine {
        let trimmed = logical.trimmingWhitespace()
        let name = String(trimmed.prefix { !isDockerWhitespace($0) })
        let rest = trimmed.dropFirst(name.count).drop(while: isDockerWhitespace)
        let (arguments, flags) = extractBuilderFlags(String(rest))
        return InstructionLine(keyword: name.lowercased(), spelledKeyword: name, flags: flags,
                               arguments: arguments.trimmingWhitespace(), original: logical,
                               startLine: startLine, endLine: endLine)
    }

    /// Leading `--name=value` words (quotes and backslashes handled as buildkit's
    /// `extractBuilderFlags` does, the escape directive notwithstanding) and the text after them.
    static func extractBuilderFlags(_ line: String) -> (rest: String, flags: [String]) {
        let bytes = Array(line.utf8)
        var flags: [String] = []
        var position = 0
        while true {
            while position < bytes.count, isASCIISpace(bytes[position]) { position += 1 }
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "-"), bytes[position + 1] == UInt8(ascii: "-") else {
                return (String(decoding: bytes[position...], as: UTF8.self), flags)
            }
            var word: [UInt8] = []
            var quote: UInt8? = nil
            while position < bytes.count {
                let byte = bytes[position]
                if let open = quote {
                    if byte == open {
                        quote = nil
                    } else if byte == UInt8(ascii: "\\"), position + 1 < bytes.count {
                        position += 1
                        word.append(bytes[position])
                    } else if byte != UInt8(ascii: "\\") {
                        word.append(byte)
                    }
                } else if isASCIISpace(byte) {
                    break
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    quote = byte
                } else if byte == UInt8(ascii: "\\") {
                    if position + 1 < bytes.count {
                        position += 1
                        word.append(bytes[position])
                    }
                } else {
                    word.append(byte)
                }
                position += 1
            }
            if word == Array("--".utf8) {
                return (String(decoding: bytes[position...], as: UTF8.self), flags)
            }
            flags.append(String(decoding: word, as: UTF8.self))
        }
    }
}

/// The parser directives at the top of a Dockerfile (`# escape=\``, `# syntax=…`, the latter
/// read and ignored), and the line-continuation rule the escape character makes.
struct ParserDirectives {
    var escape: Character = "\\"
    private var done = false
    private var seen: Set<String> = []

    /// Reads `line` as a directive while directives may still appear; anything else ends them.
    mutating func consider(_ line: String, lineNumber: Int) throws {
        guard !done else { return }
        guard let (name, value) = Self.directive(in: line), name == "escape" || name == "syntax" else {
            done = true
            return
        }
        guard seen.insert(name).inserted else {
            throw SwiftletError("dockerfile parse error on line \(lineNumber): only one \(name) parser directive can be used", code: .invalidArgument)
        }
        if name == "escape" {
            guard value == "`" || value == "\\" else {
                throw SwiftletError("dockerfile parse error on line \(lineNumber): invalid escape token '\(value)' does not match ` or \\", code: .invalidArgument)
            }
            escape = Character(value)
        }
    }

    /// `# name = value`: a name of letters and digits starting with a letter, lower-cased.
    private static func directive(in line: String) -> (String, String)? {
        var rest = Substring(line)
        guard rest.first == "#" else { return nil }
        rest = rest.dropFirst().drop(while: \.isWhitespace)
        guard let first = rest.first, first.isASCII, first.isLetter else { return nil }
        let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber) }
        rest = rest.dropFirst(name.count).drop(while: \.isWhitespace)
        guard rest.first == "=" else { return nil }
        let value = rest.dropFirst().trimmingWhitespace()
        guard !value.isEmpty else { return nil }
        return (name.lowercased(), value)
    }

    /// The line without a trailing escape character (and the blanks after it), and whether
    /// it had one.
    func trimContinuation(_ line: String) -> (String, Bool) {
        var trimmed = Substring(line)
        while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
        guard trimmed.last == escape else { return (line, false) }
        return (String(trimmed.dropLast()), true)
    }
}

/// Go's `unicode.IsSpace` for the ASCII range, which is what Docker's splitters test bytes with.
func isASCIISpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte) || byte == 0x85 || byte == 0xA0
}

/// The whitespace buildkit splits an instruction's name from its arguments on (`[\t\v\f\r ]`).
func isDockerWhitespace(_ character: Character) -> Bool {
    character == " " || character == "\t" || character == "\u{0B}" || character == "\u{0C}" || character == "\r"
}

extension StringProtocol {
    /// Without leading whitespace (Go's `unicode.IsSpace`).
    func trimmingLeadingWhitespace() -> String {
        String(drop(while: \.isWhitespace))
    }

    /// Without leading and trailing whitespace.
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice.drop(while: \.isWhitespace))
    }
}
