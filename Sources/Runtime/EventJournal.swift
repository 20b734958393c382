import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// What happened to the containers of a state root, in order, whichever process
/// did it (the CLI, a container's monitor, the daemon): `<root>/events.log`, one JSON
/// object per line in the shape of the Engine API's `/events` messages. Each line is one
/// `write` to a file opened with O_APPEND, so concurrent writers never interleave within
/// a line. The daemon's `/events` reads it and follows it.
public struct EngineEvent: Codable, Sendable {
    public struct Actor: Codable, Sendable {
        public var ID: String
        public var Attributes: [String: String]
    }
    public var `Type`: String
    public var Action: String
    public var Actor: Actor
    public var scope = "local"
    /// Unix seconds and nanoseconds.
    public var time: Int
    public var timeNano: Int

    /// moby's older fields, which the 28.2 CLI still prints from.
    public var status: String?
    public var id: String?
    public var from: String?
}

public enum EventJournal {
    public static func path(root: String) -> String { "\(root)/events.log" }

    /// Appends one event (best effort: an event that cannot be written is dropped, the
    /// operation it describes has happened anyway).
    static func record(root: String, type: String, action: String, id: String, attributes: [String: String]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nanos = Int(now.tv_sec) * 1_000_000_000 + Int(now.tv_nsec)
        var event = EngineEvent(Type: type, Action: action, Actor: .init(ID: id, Attributes: attributes),
                                time: Int(now.tv_sec), timeNano: nanos)
        if type == "container" {
            event.status = action
            event.id = id
            event.from = attributes["image"]
        }
        guard var line = try? JSONEncoder().encode(event) else { return }
        line.append(UInt8(ascii: "\n"))
        let fd = open(path(root: root), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The events written at or after byte `offset`, and the offset after the last whole line.
    public static func read(root: String, from offset: UInt64) -> (events: [EngineEvent], next: UInt64) {
        guard let handle = FileHandle(forReadingAtPath: path(root: root)) else { return ([], offset) }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = (try? handle.readToEnd()) ?? Data()
        guard let last = data.lastIndex(of: UInt8(ascii: "\n")) else { return ([], offset) }
        let complete = data[data.startIndex...last]
        let events = complete.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(EngineEvent.self, from: Data($0)) }
        return (events, offset + UInt64(complete.count))
    }
}

extension Runtime {
    /// Records a container event with Docker's attributes (image, name, and `extra`).
    func recordEvent(_ action: String, _ config: ContainerConfig, _ extra: [String: String] = [:]) {
        EventJournal.record(root: root, type: "container", action: action, id: config.id,
                            attributes: ["image": config.image, "name": config.name].merging(extra) { $1 })
    }

}
