import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// Runs a system call wrapper, retrying EINTR; a negative result throws a `SwiftletError`
/// naming `call` and carrying errno.
@discardableResult
func sys<T: BinaryInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw SwiftletError(call(), errno: error)
    }
}

/// Reads a whole file, or throws naming it.
func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw SwiftletError("cannot read \(path)", errno: Glibc.errno)
    }
    return data
}
