#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The one error type of Swiftlet's container half (Images, Registry, Runtime, the guest
/// agent and its protocol, Bench, the CLI): what went wrong in one line, its
/// ``Code`` (which the CLI turns into an exit status and the Engine API into an HTTP
/// status, both in `ErrorCode.swift`) and the errno of the failed system call, if any.
public struct SwiftletError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Code
    public let message: String
    /// errno of the system call that failed (swift-system's `Errno`), nil when none did.
    public let errno: Errno?

    /// Without a `code`, one derived from `errno` (``Code/init(errno:)``), else `.failed`.
    public init(_ message: String, code: Code? = nil, errno: Errno? = nil) {
        self.message = message
        self.errno = errno
        self.code = code ?? errno.map(Code.init(errno:)) ?? .failed
    }

    /// An errno given as the C `Int32`; 0 means none.
    public init(_ message: String, code: Code? = nil, errno: Int32) {
        self.init(message, code: code, errno: errno == 0 ? nil : Errno(rawValue: errno))
    }

    /// A failed call (`rename /a to /b`) with the current `errno`.
    public static func last(_ call: String) -> SwiftletError {
        SwiftletError(call, errno: Errno(rawValue: currentErrno()))
    }

    /// The message, then the errno's text: `open /x: No such file or directory`.
    public var description: String { errno.map { "\(message): \($0)" } ?? message }

    /// This error with `context` in front of its message; code and errno kept.
    public func adding(context: String) -> SwiftletError {
        SwiftletError("\(context): \(message)", code: code, errno: errno)
    }

    /// Any error with `context` in front: a `SwiftletError` keeps its code and errno,
    /// another error (Foundation's, a decoder's) becomes `.failed` with its description.
    public static func wrap(_ error: any Error, _ context: String) -> SwiftletError {
        (error as? SwiftletError)?.adding(context: context) ?? SwiftletError("\(context): \(error)")
    }
}
