import HostSystem
import Foundation
import Units

/// Which events of the journal a reader wants (`docker events`' `--since`, `--until` and
/// `--filter`, the `/events` query): a time window in Unix seconds and filters by `type`,
/// `event`, `container` (id, id prefix or name) and `image`. Shared by `swiftlet events`
/// and swiftletd's `/events`.
public struct EventSelection: Sendable {
    public var since: Double?
    public var until: Double?
    public var filters: [String: Set<String>]

    public static let filterKeys: Set<String> = ["type", "event", "container", "image"]

    public init(since: Double? = nil, until: Double? = nil, filters: [String: Set<String>] = [:]) {
        self.since = since
        self.until = until
        self.filters = filters
    }

    public func matches(_ event: EngineEvent) -> Bool {
        let time = Double(event.timeNano) / 1e9
        if let since, time < since { return false }
        if let until, time > until { return false }
        if let types = filters["type"], !types.contains(event.Type) { return false }
        if let actions = filters["event"], !actions.contains(event.Action) { return false }
        if let containers = filters["container"],
           !containers.contains(where: { event.Actor.ID.hasPrefix($0) || event.Actor.Attributes["name"] == $0 }) { return false }
        if let images = filters["image"], !images.contains(where: { event.Actor.Attributes["image"] == $0 }) { return false }
        return true
    }

    /// A time as `docker events` takes one (the docker CLI's GetTimestamp): Unix seconds
    /// (with a fraction), a duration before `now` (`10m`, `1h30m`), or an RFC 3339 date
    /// or time (`2026-12-05`, `2026-12-05T19:00:00Z`, local time without a zone).
    public static func timestamp(_ text: String, now: Date = Date()) throws -> Double {
        if let seconds = Double(text), !text.contains("e"), !text.contains("E") { return seconds }
        if let duration = try? DurationValue.parse(text) { return now.timeIntervalSince1970 - DurationValue.seconds(duration) }
        let withZone = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            withZone.formatOptions = options
            if let date = withZone.date(from: text) { return date.timeIntervalSince1970 }
        }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return date.timeIntervalSince1970 }
        }
        throw SwiftletError("invalid time '\(text)': use Unix seconds, a duration like 10m, or an RFC 3339 date", code: .invalidArgument)
    }
}

extension EventJournal {
    /// Hands the journal's events that `selection` wants to `deliver`, from byte `offset`
    /// (0: the whole journal), then follows new ones as they are appended, until the
    /// selection's `until` has passed or `deliver` returns false. `idle` runs when a second
    /// passed without a new event (a stream's check that its reader is still there);
    /// returning false ends the follow.
    public static func follow(root: String, from offset: UInt64, selection: EventSelection,
                              idle: () -> Bool = { true }, deliver: (EngineEvent) -> Bool) throws {
        let journal = path(root: root)
        if !FileManager.default.fileExists(atPath: journal) {
            _ = FileManager.default.createFile(atPath: journal, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let changes = try FileChangeWatch(journal)
        var offset = offset
        while true {
            let (events, next) = read(root: root, from: offset)
            offset = next
            for event in events where selection.matches(event) {
                guard deliver(event) else { return }
            }
            let now = Date().timeIntervalSince1970
            if let until = selection.until, now >= until { return }
            if !changes.wait(timeout: selection.until.map { min(1, max(0, $0 - now)) } ?? 1), !idle() { return }
        }
    }

    /// The journal's size: where a follower that wants only new events starts.
    public static func end(root: String) -> UInt64 {
        UInt64((try? FileManager.default.attributesOfItem(atPath: path(root: root))[.size] as? Int) ?? 0)
    }
}
