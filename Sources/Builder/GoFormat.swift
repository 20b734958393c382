/// The few Go `fmt` renderings Docker's classic builder writes into `history` and error
/// messages (`%q` of a string, a string slice and an int, `%v` of a string slice, and
/// `time.Duration`'s `String`), so Swiftlet's text matches dockerd's byte for byte.
enum GoFormat {
    /// `strconv.Quote`: double-quoted, with Go escapes for quotes, backslashes and
    /// non-printable characters.
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            result += escaped(scalar, quote: "\"")
        }
        return result + "\""
    }

    /// `%q` of a `[]string`: `["a" "b c"]`.
    static func quote(_ list: [String]) -> String {
        "[" + list.map(quote).joined(separator: " ") + "]"
    }

    /// `%v` of a `[]string`: `[a b c]`.
    static func plain(_ list: [String]) -> String {
        "[" + list.joined(separator: " ") + "]"
    }

    /// `%q` of an `int`: the character with that code as a Go rune literal (`'\x03'`).
    static func quoteRune(_ value: Int) -> String {
        guard let scalar = Unicode.Scalar(UInt32(clamping: max(0, value))), value >= 0 else { return "'\u{FFFD}'" }
        return "'" + escaped(scalar, quote: "'") + "'"
    }

    private static func escaped(_ scalar: Unicode.Scalar, quote: Unicode.Scalar) -> String {
        switch scalar {
        case quote, "\\": return "\\" + String(scalar)
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default: break
        }
        if isPrintable(scalar) { return String(scalar) }
        let hex = String(scalar.value, radix: 16)
        if scalar.value < 0x80 { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if scalar.value < 0x10000 { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// `time.Duration.String`: `0s`, `500ms`, `1.5µs`, `1m30s`, `1h0m0s`.
    static func duration(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        var value = nanoseconds.magnitude
        if value < 1_000_000_000 {
            if value < 1000 { return "\(sign)\(value)ns" }
            if value < 1_000_000 { return sign + fraction(value, digits: 3) + "µs" }
            return sign + fraction(value, digits: 6) + "ms"
        }
        let seconds = fraction(value % 60_000_000_000, digits: 9) + "s"
        value /= 60_000_000_000
        guard value > 0 else { return sign + seconds }
        let minutes = "\(value % 60)m"
        value /= 60
        return sign + (value > 0 ? "\(value)h" : "") + minutes + seconds
    }

    /// `value / 10^digits` with its fraction, trailing zeros (and a bare point) dropped.
    private static func fraction(_ value: UInt64, digits: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let whole = value / scale
        var fractional = String(value % scale)
        fractional = String(repeating: "0", count: digits - fractional.count) + fractional
        while fractional.hasSuffix("0") { fractional.removeLast() }
        return fractional.isEmpty ? "\(whole)" : "\(whole).\(fractional)"
    }
}
