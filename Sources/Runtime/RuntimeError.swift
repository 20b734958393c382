import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the container runtime: a message, the exit status a CLI gives
/// for it (Docker's convention: 125 runtime error, 126 cannot execute, 127 not found) and
/// the errno of the failed system call, if any.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    /// Exit status for the command line.
    public let code: Int32
    public let message: String
    /// errno of the system call that failed, 0 when none did.
    public let errno: Int32

    public init(_ message: String, code: Int32 = 125, errno: Int32 = 0) {
        self.message = message
        self.code = code
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? message : "\(message): \(String(cString: strerror(errno)))"
    }

    /// A failed system call from HostSystem, with its errno.
    init(_ error: SystemCallError) {
        self.init(error.call, errno: error.errno.rawValue)
    }

    /// Wraps any error (an image error, a Foundation error) with context.
    static func wrap(_ error: any Error, _ context: String) -> RuntimeError {
        if let error = error as? RuntimeError { return error }
        return RuntimeError("\(context): \(error)")
    }
}

/// Runs a HostSystem call, its failure as a `RuntimeError`.
@discardableResult
func host<T>(_ body: () throws(SystemCallError) -> T) throws(RuntimeError) -> T {
    do {
        return try body()
    } catch {
        throw RuntimeError(error)
    }
}

/// Runs a system call wrapper, retrying EINTR; a negative result throws a `RuntimeError`
/// naming `call` and carrying errno.
@discardableResult
func sys<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw RuntimeError(call(), errno: error)
    }
}

/// Reads a whole file, or throws naming it.
func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw RuntimeError("cannot read \(path)", errno: Glibc.errno)
    }
    return data
}
