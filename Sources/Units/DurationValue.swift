/// A length of time typed by a user: Go's `time.ParseDuration` syntax (Go's time package
/// documentation), which Docker uses for its duration flags. One or more decimal numbers,
/// each with a unit: `ns`, `us` (or `µs`, `μs`), `ms`, `s`, `m`, `h` (`300ms`, `1.5h`,
/// `2h45m`, `1m30s`); `0` alone needs no unit. At most `Int64.max` nanoseconds (about 292
/// years); negative durations are rejected, as nothing Swiftlet takes is negative.
public enum DurationValue {
    /// `duration` in seconds, fractions included (for the APIs that take a `Double`).
    public static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    public static func parse(_ text: String) throws(ValueError) -> Duration {
        try parse(Array(text.utf8)[...], text: text)
    }

    /// Parses `bytes`; errors name `text`, what the user typed.
    private static func parse(_ bytes: ArraySlice<UInt8>, text: String) throws(ValueError) -> Duration {
        var rest = bytes
        let invalid = ValueError("invalid duration '\(text)': expected a number and a unit, like 300ms, 1.5h or 2h45m")
        let tooLong = ValueError("invalid duration '\(text)': longer than \(Int64.max) nanoseconds")
        if rest.first == UInt8(ascii: "-") {
            rest = rest.dropFirst()
            if rest.elementsEqual("0".utf8) { return .zero }
            throw ValueError("invalid duration '\(text)': must not be negative")
        }
        if rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        if rest.elementsEqual("0".utf8) { return .zero }
        guard !rest.isEmpty else { throw invalid }
        let limit = UInt64(Int64.max)
        var total: UInt64 = 0
        while !rest.isEmpty {
            let integerDigits = rest.prefix(while: ASCII.isDigit)
            rest = rest.dropFirst(integerDigits.count)
            let whole: UInt64
            if integerDigits.isEmpty {
                whole = 0
            } else {
                guard let value = ASCII.integer(integerDigits, limit: limit) else { throw tooLong }
                whole = value
            }
            var fraction: (numerator: UInt64, scale: Double) = (0, 1)
            var fractionDigitCount = 0
            if rest.first == ASCII.dot {
                rest = rest.dropFirst()
                let digits = rest.prefix(while: ASCII.isDigit)
                rest = rest.dropFirst(digits.count)
                fractionDigitCount = digits.count
                // Digits past what a UInt64 holds cannot change the result: dropped.
                for digit in digits where fraction.numerator <= (limit - 9) / 10 {
                    fraction.numerator = fraction.numerator * 10 + UInt64(digit - UInt8(ascii: "0"))
                    fraction.scale *= 10
                }
            }
            guard integerDigits.count + fractionDigitCount > 0 else { throw invalid }
            let unitText = rest.prefix { !ASCII.isDigit($0) && $0 != ASCII.dot }
            rest = rest.dropFirst(unitText.count)
            guard !unitText.isEmpty else {
                throw ValueError("invalid duration '\(text)': missing unit (ns, us, ms, s, m or h)")
            }
            guard let unit = Self.units[String(decoding: unitText, as: UTF8.self)] else {
                throw ValueError("invalid duration '\(text)': unknown unit '\(String(decoding: unitText, as: UTF8.self))' (use ns, us, ms, s, m or h)")
            }
            guard whole <= limit / unit else { throw tooLong }
            var component = whole * unit
            if fraction.numerator > 0 {
                let nanoseconds = Double(fraction.numerator) * (Double(unit) / fraction.scale)
                guard nanoseconds < Double(limit) else { throw tooLong }
                component += UInt64(nanoseconds)
                guard component <= limit else { throw tooLong }
            }
            guard total <= limit - component else { throw tooLong }
            total += component
        }
        return .nanoseconds(Int64(total))
    }

    /// Nanoseconds per unit, as Go spells them.
    private static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "\u{B5}s": 1_000, "\u{3BC}s": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]

    /// A timeout as `docker stop -t` takes it: a bare number is seconds (`10`, `2.5`),
    /// anything else a duration in `parse`'s syntax (`1500ms`, `1m`).
    public static func parseTimeout(_ text: String) throws(ValueError) -> Duration {
        let bytes = Array(text.utf8)
        let isBareNumber = DecimalSyntax.isValid(bytes, exponent: false) && bytes.first != UInt8(ascii: "+")
        return try parse(Array(text.utf8)[...] + (isBareNumber ? Array("s".utf8) : []), text: text)
    }
}
