import SystemPackage

extension SwiftletError {
    /// What kind of failure an error is: the one place the CLI's exit statuses (Docker's
    /// CLI convention: 125 for bad input and when `run` fails in the engine, 126 when the
    /// container's command cannot be executed, 127 when it is not found, 1 for other
    /// commands) and the Engine API's HTTP statuses (moby's `errdefs`) come from.
    public enum Code: Sendable, Equatable {
        /// Bad input: a flag, a reference, a file's content (HTTP 400).
        case invalidArgument
        /// No such container, image, volume, file (HTTP 404).
        case notFound
        /// The object exists or is in a state that forbids the operation: a name in use,
        /// a running container to remove, a stopped one to kill (HTTP 409).
        case conflict
        /// Not allowed to this caller (HTTP 403).
        case permissionDenied
        /// Something this depends on cannot be reached now: a registry, KVM, a peer
        /// process; trying again later may succeed (HTTP 503).
        case unavailable
        /// Reading or writing failed (HTTP 500).
        case io
        /// The container's command exists but cannot be executed (exit 126).
        case cannotExecute
        /// The container's command does not exist (exit 127).
        case commandNotFound
        /// An operation Swiftlet does not offer yet (HTTP 501).
        case notImplemented
        /// A command the operation ran exited with this status (a build's RUN): the CLI
        /// exits with it, as Docker's does (HTTP 500).
        case commandFailed(Int32)
        /// Any other failure (HTTP 500).
        case failed

        /// The code of a failed system call's errno.
        public init(errno: Errno) {
            switch errno {
            case .noSuchFileOrDirectory: self = .notFound
            case .fileExists, .resourceBusy: self = .conflict
            case .permissionDenied, .notPermitted: self = .permissionDenied
            case .invalidArgument, .fileNameTooLong: self = .invalidArgument
            case .connectionRefused, .resourceTemporarilyUnavailable, .timedOut: self = .unavailable
            default: self = .io
            }
        }

        /// The code of an exit status recorded for a container that failed to start
        /// (the inverse of ``exitStatus`` for the statuses that name a code).
        public init(exitStatus: Int32) {
            switch exitStatus {
            case 126: self = .cannotExecute
            case 127: self = .commandNotFound
            default: self = .failed
            }
        }

        /// The exit status of a CLI command failing with this code: 126 and 127 when the
        /// container's command cannot be executed or found, 125 for bad input (Docker's CLI
        /// exits 125 for a bad flag value whatever the command), otherwise `otherwise`
        /// (Docker's CLI: 125 for `run`, `create` and `start`, 1 for every other command).
        public func exitStatus(otherwise: Int32) -> Int32 {
            switch self {
            case .cannotExecute: 126
            case .commandNotFound: 127
            case .invalidArgument: 125
            case .commandFailed(let status): status
            default: otherwise
            }
        }

        /// The status `run` exits with (and a container that failed to start records).
        public var exitStatus: Int32 { exitStatus(otherwise: 125) }

        /// The HTTP status of an Engine API request failing with this code.
        public var httpStatus: Int {
            switch self {
            case .invalidArgument, .cannotExecute, .commandNotFound: 400
            case .permissionDenied: 403
            case .notFound: 404
            case .conflict: 409
            case .unavailable: 503
            case .notImplemented: 501
            case .io, .failed, .commandFailed: 500
            }
        }
    }
}
