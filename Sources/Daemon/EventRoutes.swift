import Foundation
import HostSystem
import Runtime

/// `GET /events` (moby's `api/server/router/system`): the state root's event journal as
/// a stream of JSON messages. `since` replays from that time; without `until` the stream
/// then follows new events until the client leaves; `filters` by `type`, `event`,
/// `container` (id, id prefix or name) and `image` (Runtime's `EventSelection`).
public enum EventRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/events") { request, _ in
            let selection = EventSelection(since: try request.query["since"].map(parseTime),
                                           until: try request.query["until"].map(parseTime),
                                           filters: try Filters(request.query["filters"]).values)
            let start = selection.since == nil ? EventJournal.end(root: engine.root) : 0
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                try await onOwnThread {
                    // An empty chunk once a second without events notices a client that left.
                    try EventJournal.follow(root: engine.root, from: start, selection: selection,
                                            idle: { (try? writer.writeBlocking(.init())) != nil }) { event in
                        guard var line = try? JSONEncoder().encode(event) else { return true }
                        line.append(UInt8(ascii: "\n"))
                        return (try? writer.writeBlocking(.init(bytes: line))) != nil
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
}
