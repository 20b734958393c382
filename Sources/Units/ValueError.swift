/// A value typed by a user (a size, duration, CPU count, port range or name) that does not
/// parse: the one line that says which value and what is wrong with it.
public struct ValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
