import ArgumentParser
import Foundation
import HostSystem

/// Runs a command's body. A `SwiftletError` is printed as one line, `swiftlet: …`, on
/// stderr, and the command exits with the status of the error's code
/// (`SwiftletError.Code.exitStatus(otherwise:)`: 126 or 127 when a container's command
/// cannot be executed or found, else `otherwise`: Docker's CLI exits 125 when `run`,
/// `create` or `start` fail, 1 when any other command does).
func reportingErrors(otherwise: Int32 = 1, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SwiftletError {
        throw report(error, otherwise: otherwise)
    }
}

/// ``reportingErrors(otherwise:_:)`` for an async body.
func reportingErrors(otherwise: Int32 = 1, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as SwiftletError {
        throw report(error, otherwise: otherwise)
    }
}

/// ``reportingErrors(otherwise:_:)`` for a body whose value the command goes on with.
func reportingErrorsReturning<T>(otherwise: Int32 = 1, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SwiftletError {
        throw report(error, otherwise: otherwise)
    }
}

/// Prints `error` in one line; the exit to throw.
private func report(_ error: SwiftletError, otherwise: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("swiftlet: \(error)\n".utf8))
    return ExitCode(error.code.exitStatus(otherwise: otherwise))
}
