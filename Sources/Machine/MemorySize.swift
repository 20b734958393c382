/// A memory size given on the command line: a decimal number with an optional
/// binary suffix K, M, G (or KiB/MiB/GiB, case-insensitive); a bare number is MiB.
public struct MemorySize: Equatable, Sendable, CustomStringConvertible {
    public let bytes: UInt64

    public init(bytes: UInt64) {
        self.bytes = bytes
    }

    /// Parses "256M", "2G", "512MiB", "1024" (MiB); nil for anything else.
    public init?(parsing text: String) {
        var digits = Substring(text)
        var unitText = ""
        while let last = digits.last, !last.isNumber {
            unitText = String(last) + unitText
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(digits) else { return nil }
        let shift: UInt64
        switch unitText.lowercased() {
        case "k", "kib", "kb": shift = 10
        case "", "m", "mib", "mb": shift = 20
        case "g", "gib", "gb": shift = 30
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        bytes = value
    }

    public var description: String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }
}
