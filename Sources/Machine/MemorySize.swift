/// A memory size in bytes, printed in the largest binary unit that divides it (`256 MiB`).
/// `--memory` text is parsed by Units' `GuestMemorySize`.
public struct MemorySize: Equatable, Sendable, CustomStringConvertible {
    public let bytes: UInt64

    public init(bytes: UInt64) {
        self.bytes = bytes
    }

    public var description: String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        return "\(bytes) bytes"
    }
}
