/// A user-facing problem with what the VMM was asked to boot (a bad option, a missing or
/// unreadable file, not a kernel, an initrd or command line that does not fit):
/// `swiftlet boot` prints the message and exits 2.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
