import HostSystem

/// A container's restart policy (`--restart`, the Engine API's `HostConfig.RestartPolicy`),
/// with dockerd's semantics: what restarts after the container's process ends, and after
/// how long.
///
/// - `no`: never restarted.
/// - `on-failure[:N]`: restarted when it exits non-zero, at most N times (0: no limit).
/// - `always`: restarted whatever the exit; a container the user stopped stays stopped
///   until its next `start` or until the daemon starts again.
/// - `unless-stopped`: as `always`, but one the user stopped stays stopped across daemon
///   restarts too.
public struct RestartPolicy: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The policy names of Docker's CLI and API.
    public enum Name: String, Codable, Sendable, CaseIterable {
        case no, onFailure = "on-failure", always, unlessStopped = "unless-stopped"
    }

    public var name: Name
    /// `on-failure`'s retry limit; 0 for no limit (and for the other policies).
    public var maximumRetryCount: Int

    /// The first delay before a restart; it doubles with each restart up to
    /// `maximumDelay`, and starts again from here once a run lasted `resetAfter`.
    public static let initialDelay: Duration = .milliseconds(100)
    public static let maximumDelay: Duration = .seconds(60)
    public static let resetAfter: Duration = .seconds(10)

    public init(name: Name, maximumRetryCount: Int = 0) throws(SwiftletError) {
        guard maximumRetryCount >= 0 else {
            throw SwiftletError("invalid restart policy: maximum retry count cannot be negative", code: .invalidArgument)
        }
        guard maximumRetryCount == 0 || name == .onFailure else {
            throw SwiftletError("invalid restart policy: maximum retry count can only be used with 'on-failure'", code: .invalidArgument)
        }
        self.name = name
        self.maximumRetryCount = maximumRetryCount
    }

    /// Parses Docker's `--restart` value: `no`, `always`, `unless-stopped`,
    /// `on-failure` or `on-failure:N`.
    public init(parsing text: String) throws(SwiftletError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let name = Name(rawValue: first) else {
            throw SwiftletError("invalid restart policy '\(text)': use no, always, unless-stopped or on-failure[:max-retries]",
                                code: .invalidArgument)
        }
        var count = 0
        if parts.count == 2 {
            guard name == .onFailure else {
                throw SwiftletError("invalid restart policy '\(text)': only on-failure takes a maximum retry count", code: .invalidArgument)
            }
            guard let parsed = Int(parts[1]) else {
                throw SwiftletError("invalid restart policy '\(text)': maximum retry count must be an integer", code: .invalidArgument)
            }
            count = parsed
        }
        try self.init(name: name, maximumRetryCount: count)
    }

    public var description: String {
        name == .onFailure && maximumRetryCount > 0 ? "on-failure:\(maximumRetryCount)" : name.rawValue
    }

    /// Whether a run that ended with `exitCode` is followed by another, given how many
    /// restarts this start has had and whether the user stopped the container.
    public func restartsAfter(exitCode: Int32, restartCount: Int, stoppedByUser: Bool) -> Bool {
        guard !stoppedByUser else { return false }
        switch name {
        case .no: return false
        case .always, .unlessStopped: return true
        case .onFailure: return exitCode != 0 && (maximumRetryCount == 0 || restartCount < maximumRetryCount)
        }
    }

    /// Whether the daemon starts this exited container when it starts (after its own
    /// restart or the host's reboot).
    public func restartsWithDaemon(stoppedByUser: Bool) -> Bool {
        switch name {
        case .always: return true
        case .unlessStopped: return !stoppedByUser
        case .no, .onFailure: return false
        }
    }

    /// The wait before the next restart: `initialDelay` after a run that lasted
    /// `resetAfter` or more (or the first time), else twice the previous wait, at most
    /// `maximumDelay`.
    public static func delay(after previous: Duration?, runLasted: Duration) -> Duration {
        guard let previous, runLasted < resetAfter else { return initialDelay }
        return min(previous * 2, maximumDelay)
    }
}
