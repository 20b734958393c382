import SystemPackage

/// A system call that failed: what was called, with its object (`rename /a to /b`), and
/// the errno as swift-system's `Errno`. The one error type of this module; callers wrap
/// it in their own where they add context.
public struct SystemCallError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Errno

    public init(_ call: String, errno: Errno) {
        self.call = call
        self.errno = errno
    }

    /// The failed call and the current `errno`.
    public static func last(_ call: String) -> SystemCallError {
        SystemCallError(call, errno: Errno(rawValue: currentErrno()))
    }

    public var description: String { "\(call): \(errno)" }
}
