import Foundation
import HostSystem

/// How buildkit's line parsers cut an instruction's argument text into words before any
/// expansion (Dockerfile reference: "Format", "Shell and exec form", "ENV", "LABEL").
enum ArgumentForms {
    /// The JSON (exec) form: a JSON array of strings, or nil when the text is not a JSON
    /// array at all (then Docker reads it as the shell form). An array holding anything but
    /// strings is an error.
    static func jsonArray(_ text: String) throws -> [String]? {
        let trimmed = text.trimmingLeadingWhitespace()
        guard trimmed.hasPrefix("["), let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)),
              let array = object as? [Any] else { return nil }
        return try array.map { element in
            guard let string = element as? String else {
                throw SwiftletError("when using JSON array syntax, arrays must be comprised of strings only", code: .invalidArgument)
            }
            return string
        }
    }

    /// Whitespace-separated fields (`[\t\v\f\r ]+`), as FROM and EXPOSE are split.
    static func fields(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        return text.split(omittingEmptySubsequences: false, whereSeparator: isDockerWhitespace).map(String.init)
    }

    /// The JSON form, else whitespace-separated fields (COPY, ADD, VOLUME); whether it was JSON.
    static func jsonOrFields(_ text: String) throws -> (words: [String], isJSON: Bool) {
        if let array = try jsonArray(text) { return (array, true) }
        return (fields(text), false)
    }

    /// Words separated by unquoted whitespace, quotes and escape characters kept in them for
    /// the expansion to remove (buildkit's `parseWords`, for ENV, LABEL and ARG).
    static func words(_ text: String, escape: Character) -> [String] {
        let escape = escape.unicodeScalars.first ?? "\\"
        let scalars = Array(text.unicodeScalars)
        var words: [String] = []
        var word = String.UnicodeScalarView()
        var inWord = false
        var blankOK = false
        var quote: Unicode.Scalar? = nil
        var index = 0
        func finishWord() {
            if blankOK || !word.isEmpty { words.append(String(word)) }
            word = String.UnicodeScalarView()
            blankOK = false
            inWord = false
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == open { quote = nil }
                if scalar == escape && open != "'" {
                    if index + 1 == scalars.count {
                        quote = nil
                        index += 1
                        continue
                    }
                    word.append(scalar)
                    index += 1
                }
                word.append(scalars[index])
            } else if !inWord && scalar.properties.isWhitespace {
                // between words
            } else if scalar.properties.isWhitespace {
                finishWord()
            } else {
                inWord = true
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                }
                if scalar == escape {
                    if index + 1 == scalars.count {
                        index += 1
                        continue
                    }
                    word.append(scalar)
                    index += 1
                }
                word.append(scalars[index])
            }
            index += 1
        }
        if inWord || quote != nil { finishWord() }
        return words
    }

    /// ENV's and LABEL's pairs: `name value` (the rest of the line is the value) when the first
    /// word has no `=`, else `name=value` words.
    static func nameValues(_ text: String, instruction: String, escape: Character) throws -> [KeyValue] {
        let words = words(text, escape: escape)
        guard let first = words.first else { return [] }
        guard first.contains("=") else {
            let name = String(text.prefix { !isDockerWhitespace($0) })
            let value = text.dropFirst(name.count).drop(while: isDockerWhitespace)
            guard !value.isEmpty else { throw SwiftletError("\(instruction) must have two arguments", code: .invalidArgument) }
            return [KeyValue(key: name, value: String(value))]
        }
        return try words.map { word in
            guard let equals = word.firstIndex(of: "=") else {
                throw SwiftletError("Syntax error - can't find = in \(GoFormat.quote(word)). Must be of the form: name=value", code: .invalidArgument)
            }
            return KeyValue(key: String(word[..<equals]), value: String(word[word.index(after: equals)...]))
        }
    }
}
