import Foundation
import HostSystem
import Runtime

/// `GET /events` (moby's `api/server/router/system`): the state root's event journal as
/// a stream of JSON messages. `since` replays from that time; without `until` the stream
/// then follows new events until the client leaves; `filters` by `type`, `event`,
/// `container` (id, id prefix or name) and `image`.
public enum EventRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/events") { request, _ in
            let since = try request.query["since"].map(parseTime)
            let until = try request.query["until"].map(parseTime)
            let filters = try Filters(request.query["filters"])
            let journal = EventJournal.path(root: engine.root)
            if !FileManager.default.fileExists(atPath: journal) {
                _ = FileManager.default.createFile(atPath: journal, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            let start = since == nil ? UInt64((try? FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int) ?? 0) : 0
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                try await onOwnThread {
                    let changes = try FileChangeWatch(journal)
                    var offset = start
                    while true {
                        let (events, next) = EventJournal.read(root: engine.root, from: offset)
                        offset = next
                        for event in events where matches(event, since: since, until: until, filters: filters) {
                            var line = try JSONEncoder().encode(event)
                            line.append(UInt8(ascii: "\n"))
                            try writer.writeBlocking(.init(bytes: line))
                        }
                        if let until, Double(Date().timeIntervalSince1970) >= until { return }
                        // Wakes on new events; once a second to notice a client that left.
                        if !changes.wait(timeout: until.map { max(0, $0 - Date().timeIntervalSince1970) } ?? 1) {
                            try writer.writeBlocking(.init())
                        }
                    }
                }
            }
        }
    }

    /// A time as the CLI sends it: Unix seconds, possibly with a fraction.
    static func parseTime(_ text: String) throws -> Double {
        guard let value = Double(text) else { throw SwiftletError("invalid time '\(text)'", code: .invalidArgument) }
        return value
    }

    static func matches(_ event: EngineEvent, since: Double?, until: Double?, filters: Filters) -> Bool {
        let time = Double(event.timeNano) / 1e9
        if let since, time < since { return false }
        if let until, time > until { return false }
        if let types = filters.values["type"], !types.contains(event.Type) { return false }
        if let actions = filters.values["event"], !actions.contains(event.Action) { return false }
        if let containers = filters.values["container"],
           !containers.contains(where: { event.Actor.ID.hasPrefix($0) || event.Actor.Attributes["name"] == $0 }) { return false }
        if let images = filters.values["image"], !images.contains(where: { event.Actor.Attributes["image"] == $0 }) { return false }
        return true
    }
}
