/// A process limit typed by a user (`--pids-limit 100`): Docker's rule, an integer where 0
/// or a negative number (Docker documents -1) means no limit, nil here. At most
/// `maximum`, the kernel's PID_MAX_LIMIT, the largest value cgroup v2's pids.max takes.
public enum PidsLimit {
    public static let maximum = 4_194_304

    public static func parse(_ text: String) throws(ValueError) -> Int? {
        var digits = Array(text.utf8)[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative || digits.first == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard let value = ASCII.integer(digits, limit: UInt64(Int64.max)) else {
            throw ValueError("invalid process limit '\(text)': expected a whole number, -1 for no limit")
        }
        if negative || value == 0 { return nil }
        guard value <= UInt64(maximum) else {
            throw ValueError("invalid process limit '\(text)': at most \(maximum), or -1 for no limit")
        }
        return Int(value)
    }
}
