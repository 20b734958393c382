/// A port or a range of ports typed by a user (`80`, `8000-8010`), as Docker's
/// `--publish`/`--expose` take them: TCP/UDP ports 1–65535, first ≤ last, ASCII digits.
public struct PortRange: Equatable, Sendable {
    public let first: UInt16
    public let last: UInt16

    public init(first: UInt16, last: UInt16) {
        self.first = first
        self.last = last
    }

    public static func parse(_ text: String) throws(ValueError) -> PortRange {
        let bytes = Array(text.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "-"), maxSplits: 1, omittingEmptySubsequences: false)
        var ports: [UInt16] = []
        for part in parts {
            guard let port = ASCII.integer(part, limit: 65535), port >= 1 else {
                throw ValueError("invalid port '\(text)': expected a port from 1 to 65535 or a range like 8000-8010")
            }
            ports.append(UInt16(port))
        }
        guard let first = ports.first, let last = ports.last, first <= last else {
            throw ValueError("invalid port range '\(text)': the first port is above the last")
        }
        return PortRange(first: first, last: last)
    }
}
