/// The one error type of the `Images` module: every failure a user, a file, an archive or a
/// registry can cause, with a message that names what was wrong and where.
public struct ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A human-readable explanation, suitable for printing as-is after "error: ".
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// Wraps any error into an `ImageError` with some context in front.
    package static func wrap(_ error: any Error, _ context: String) -> ImageError {
        if let error = error as? ImageError {
            return ImageError("\(context): \(error.message)")
        }
        return ImageError("\(context): \(error)")
    }
}
