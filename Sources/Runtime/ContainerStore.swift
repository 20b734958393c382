import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// One container's state directory, `<root>/containers/<id>/`: `config.json`,
/// `state.json`, `container.log` (JSON lines, Docker's json-file format), and the
/// backend's files (a namespace container: `upper/`, `work/`, `rootfs/`).
public struct ContainerBundle: Sendable {
    public let directory: String

    public var configPath: String { "\(directory)/config.json" }
    public var statePath: String { "\(directory)/state.json" }
    public var logPath: String { "\(directory)/container.log" }
    var lockPath: String { "\(directory)/lock" }
    var waitLockPath: String { "\(directory)/wait.lock" }

    /// Whether the directory still exists (another process may have removed it).
    var exists: Bool { access(directory, F_OK) == 0 }

    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    func readConfig() throws -> ContainerConfig {
        try decode(ContainerConfig.self, readFile(configPath), what: configPath)
    }

    func writeConfig(_ config: ContainerConfig) throws {
        let bytes = Array(try encode(config))
        try AtomicFile.write(bytes, to: configPath)
    }

    func readState() throws -> ContainerState {
        try decode(ContainerState.self, readFile(statePath), what: statePath)
    }

    /// Reads, changes and writes `state.json` under an exclusive lock shared with the
    /// other processes (CLI commands, the container's monitor) that update it.
    @discardableResult
    func updateState(_ change: (inout ContainerState) throws -> Void) throws -> ContainerState {
        let fd = try sys("open \(lockPath)") { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(lockPath)") { flock(fd, LOCK_EX) }
        var state = FileManager.default.fileExists(atPath: statePath) ? try readState() : ContainerState()
        try change(&state)
        let bytes = Array(try encode(state))
        try AtomicFile.write(bytes, to: statePath)
        return state
    }
}

/// `wait.lock` in a container's bundle keeps its exit code readable for `wait`: every
/// waiter holds a shared lock on it while it waits, and the monitor of an `--rm`
/// container, once it has recorded the exit, removes the bundle only when it gets the lock
/// exclusively (or after `removalGrace`, so a stuck waiter cannot keep it forever).
/// Docker's `wait` likewise returns the code of a container that removes itself.
extension ContainerBundle {
    static let removalGrace: Double = 10

    /// Takes a shared lock on `wait.lock`; closing the returned fd releases it. Throws
    /// when the bundle is gone.
    func holdForWaiter() throws -> Int32 {
        let fd = try sys("open \(waitLockPath)") { open(waitLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        do {
            try sys("flock \(waitLockPath)") { flock(fd, LOCK_SH) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Waits until no waiter holds `wait.lock` (at most `removalGrace` seconds) and
    /// returns the fd holding it exclusively, or -1 when it could not be had.
    func awaitWaiters() -> Int32 {
        let fd = open(waitLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return -1 }
        let deadline = Date().addingTimeInterval(Self.removalGrace)
        while flock(fd, LOCK_EX | LOCK_NB) < 0 {
            if (errno != EWOULDBLOCK && errno != EINTR) || Date() >= deadline {
                close(fd)
                return -1
            }
            usleep(20_000)
        }
        return fd
    }
}

func encode<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    do {
        return try encoder.encode(value)
    } catch {
        throw SwiftletError("cannot encode \(T.self): \(error)")
    }
}

func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    do {
        return try decoder.decode(type, from: data)
    } catch {
        throw SwiftletError("\(what) is not valid: \(error)")
    }
}

/// The containers under `<root>/containers`: creation of state directories, lookup by
/// full id, unique id prefix or name (Docker's rules), listing.
struct ContainerStore: Sendable {
    let directory: String

    init(root: String) throws {
        directory = "\(root)/containers"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SwiftletError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    func bundle(_ id: String) -> ContainerBundle { ContainerBundle(directory: "\(directory)/\(id)") }

    /// Runs `body` holding `create.lock` exclusively, so creations in several processes
    /// see each other's finished configs (names, user namespace ids).
    func whileCreating<T>(_ body: () throws -> T) throws -> T {
        let path = "\(directory)/create.lock"
        let fd = try sys("open \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(path)") { flock(fd, LOCK_EX) }
        return try body()
    }

    /// Changes container `id`'s `config.json` (rename, update) under `create.lock`, as
    /// creation holds it: a new name is checked against every other, and two changes in
    /// different processes never lose one another. Returns the config written.
    @discardableResult
    func changeConfig(_ id: String, _ change: (inout ContainerConfig, [ContainerConfig]) throws -> Void) throws -> ContainerConfig {
        try whileCreating {
            let bundle = bundle(id)
            var config = try bundle.readConfig()
            try change(&config, all())
            try bundle.writeConfig(config)
            return config
        }
    }

    func ids() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.count == 64 }
    }

    /// All containers with their configs, newest first; unreadable entries are skipped
    /// (a directory being created or removed by another process).
    func all() -> [ContainerConfig] {
        ids().compactMap { try? bundle($0).readConfig() }.sorted { $0.created > $1.created }
    }

    /// The container called `reference`: a full id, a name, or a unique id prefix.
    func find(_ reference: String) throws -> ContainerConfig {
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        let configs = all()
        if let exact = configs.first(where: { $0.id == reference || $0.name == name }) { return exact }
        let matches = configs.filter { $0.id.hasPrefix(reference) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 { throw SwiftletError("multiple IDs found with provided prefix: \(reference)") }
        throw SwiftletError("No such container: \(reference)", code: .notFound)
    }

    /// A Docker-style random name, adjective_noun.
    static func randomName(taken: Set<String>) -> String {
        let adjectives = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "quirky", "sharp", "zen"]
        let nouns = ["babbage", "curie", "dijkstra", "hopper", "knuth", "lovelace", "noether", "ritchie", "shannon", "turing"]
        while true {
            let name = "\(adjectives[Int.random(in: 0..<adjectives.count)])_\(nouns[Int.random(in: 0..<nouns.count)])"
            if !taken.contains(name) { return name }
            let numbered = "\(name)\(Int.random(in: 1...99))"
            if !taken.contains(numbered) { return numbered }
        }
    }
}
