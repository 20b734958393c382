/// A container's memory limit typed by a user (`-m 512m`): a `ByteSize`, Docker's rule that
/// 0 means no limit (nil here) and any other limit is at least ``minimum`` (6 MiB), with
/// Docker's message.
public enum MemoryLimit {
    public static let minimum: Int64 = 6 << 20

    public static func parse(_ text: String) throws(ValueError) -> Int64? {
        let bytes = try ByteSize.parse(text)
        if bytes == 0 { return nil }
        guard bytes >= minimum else { throw ValueError("minimum memory limit allowed is 6MB") }
        return bytes
    }
}
