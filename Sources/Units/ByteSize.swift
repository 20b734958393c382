/// A number of bytes typed by a user (`-m 512m`, `--memory 1.5g`): Docker's size syntax,
/// go-units' `RAMInBytes` (docker/go-units size.go). A decimal number (`512`, `1.5`, `.5`,
/// `1e3`), optionally one space, then an optional unit: `b`, or `k`, `m`, `g`, `t`, `p`
/// (binary multiples: 1024, 1024², …) optionally followed by `b` or `ib`, in any case
/// (`1gb`, `1GiB`, `64K`). No unit means bytes; a fraction of a byte is dropped.
/// Negative, empty, non-ASCII and out-of-range values (more than `Int64.max` bytes) are
/// rejected with one line naming the text.
public enum ByteSize {
    public static func parse(_ text: String) throws(ValueError) -> Int64 {
        let bytes = Array(text.utf8)
        // As go-units: the number ends at the last digit, dot or space; a space there
        // separates it from the unit.
        guard let end = bytes.lastIndex(where: { ASCII.isDigit($0) || $0 == ASCII.dot || $0 == ASCII.space }) else {
            throw ValueError("invalid size '\(text)': expected a number with an optional unit, like 512m or 1.5g")
        }
        let number = bytes[..<(bytes[end] == ASCII.space ? end : end + 1)]
        let unit = try multiplier(ofUnit: bytes[(end + 1)...], in: text) ?? 1
        if number.first == UInt8(ascii: "-") {
            throw ValueError("invalid size '\(text)': must not be negative")
        }
        guard DecimalSyntax.isValid(number, exponent: true) else {
            throw ValueError("invalid size '\(text)': '\(String(decoding: number, as: UTF8.self))' is not a number")
        }
        let tooLarge = ValueError("invalid size '\(text)': must be less than 8 EiB")
        if number.allSatisfy(ASCII.isDigit) {
            guard let whole = Int64(String(decoding: number, as: UTF8.self)) else { throw tooLarge }
            let (product, overflow) = whole.multipliedReportingOverflow(by: unit)
            guard !overflow else { throw tooLarge }
            return product
        }
        guard let value = Double(String(decoding: number, as: UTF8.self)), value.isFinite else { throw tooLarge }
        let product = value * Double(unit)
        // 2⁶³ is the first Double that does not fit (Int64.max itself is not a Double).
        guard product < 9_223_372_036_854_775_808.0 else { throw tooLarge }
        return Int64(product)
    }

    /// The bytes one `unit` stands for, nil for no unit.
    private static func multiplier(ofUnit unit: ArraySlice<UInt8>, in text: String) throws(ValueError) -> Int64? {
        if unit.isEmpty { return nil }
        let lower = unit.map(ASCII.lowercased)
        let shifts: [UInt8: Int64] = [UInt8(ascii: "k"): 10, UInt8(ascii: "m"): 20, UInt8(ascii: "g"): 30,
                                      UInt8(ascii: "t"): 40, UInt8(ascii: "p"): 50]
        let rest = Array(lower.dropFirst())
        if lower == [UInt8(ascii: "b")] { return 1 }
        if let shift = shifts[lower[0]], rest == [] || rest == Array("b".utf8) || rest == Array("ib".utf8) {
            return 1 << shift
        }
        throw ValueError("invalid size '\(text)': unknown unit '\(String(decoding: unit, as: UTF8.self))' (use b, k, m, g, t or p, optionally followed by b or ib)")
    }
}

/// ASCII byte classes for the parsers (a user's digits are ASCII digits only).
enum ASCII {
    static let dot = UInt8(ascii: ".")
    static let space = UInt8(ascii: " ")

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    /// The value of a string of ASCII digits, nil when empty, not digits or above `limit`.
    static func integer(_ digits: some Collection<UInt8>, limit: UInt64) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard isDigit(digit) else { return nil }
            let (tens, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = tens.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow, !carry, sum <= limit else { return nil }
            value = sum
        }
        return value
    }
}

/// The decimal numbers the parsers take: an optional `+`, digits with an optional
/// fraction (at least one digit in all) and, where allowed, an exponent (`1e3`, `2.5E-1`).
enum DecimalSyntax {
    static func isValid(_ text: some Collection<UInt8>, exponent allowsExponent: Bool) -> Bool {
        var rest = text[...]
        if rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        let integerDigits = rest.prefix(while: ASCII.isDigit).count
        rest = rest.dropFirst(integerDigits)
        var fractionDigits = 0
        if rest.first == ASCII.dot {
            rest = rest.dropFirst()
            fractionDigits = rest.prefix(while: ASCII.isDigit).count
            rest = rest.dropFirst(fractionDigits)
        }
        guard integerDigits + fractionDigits > 0 else { return false }
        if allowsExponent, let e = rest.first, ASCII.lowercased(e) == UInt8(ascii: "e") {
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: "-") { rest = rest.dropFirst() }
            let exponentDigits = rest.prefix(while: ASCII.isDigit).count
            guard exponentDigits > 0 else { return false }
            rest = rest.dropFirst(exponentDigits)
        }
        return rest.isEmpty
    }
}
