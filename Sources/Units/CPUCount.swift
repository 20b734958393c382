/// A number of CPUs typed by a user (`--cpus 1.5`): Docker's `--cpus`, a decimal number
/// of CPUs kept as whole billionths (Docker's NanoCPUs, so at most 9 decimals), from
/// 0.000000001 to `maximum`. No sign, exponent, `nan` or `inf`; ASCII digits only.
public enum CPUCount {
    /// The most CPUs a value may name: far more than any host or microVM this runs on.
    public static let maximum = 1024

    public static func parse(_ text: String) throws(ValueError) -> Double {
        let range = "a number of CPUs from 0.000000001 to \(maximum), like 1 or 1.5"
        let bytes = Array(text.utf8)
        guard DecimalSyntax.isValid(bytes, exponent: false), bytes.first != UInt8(ascii: "+") else {
            throw ValueError("invalid CPU count '\(text)': expected \(range)")
        }
        let parts = bytes.split(separator: ASCII.dot, omittingEmptySubsequences: false)
        let integerDigits = parts[0].drop { $0 == UInt8(ascii: "0") }
        var fractionDigits = parts.count > 1 ? Array(parts[1]) : []
        while fractionDigits.last == UInt8(ascii: "0") { fractionDigits.removeLast() }
        guard fractionDigits.count <= 9 else {
            throw ValueError("invalid CPU count '\(text)': more precise than 9 decimals")
        }
        let limit = UInt64(maximum) * 1_000_000_000
        let whole = integerDigits.isEmpty ? 0 : ASCII.integer(integerDigits, limit: UInt64(maximum))
        let billionths = fractionDigits.isEmpty ? 0 : ASCII.integer(fractionDigits + Array(repeating: UInt8(ascii: "0"), count: 9 - fractionDigits.count), limit: limit)
        guard let whole, let billionths, case let nanoCPUs = whole * 1_000_000_000 + billionths, (1...limit).contains(nanoCPUs) else {
            throw ValueError("invalid CPU count '\(text)': expected \(range)")
        }
        return Double(nanoCPUs) / 1_000_000_000
    }
}
