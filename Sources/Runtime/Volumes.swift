import Foundation

/// A named volume (Docker's local volume driver): a directory `<root>/volumes/<name>/_data`
/// that outlives the containers using it; namespace containers bind-mount it.
public struct Volume: Codable, Sendable {
    public var Name: String
    public var Driver: String
    public var Mountpoint: String
    public var CreatedAt: Date
}

/// The named volumes under `<root>/volumes`.
public struct VolumeStore: Sendable {
    let directory: String

    public init(root: String) throws {
        directory = "\(root)/volumes"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    /// Creates a volume, or returns the existing one of that name (as Docker does).
    @discardableResult
    public func create(_ name: String) throws -> Volume {
        guard Self.isValid(name) else {
            throw RuntimeError("\"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
        }
        if let existing = try? inspect(name) { return existing }
        let volume = Volume(Name: name, Driver: "local", Mountpoint: "\(directory)/\(name)/_data", CreatedAt: Date())
        do {
            try FileManager.default.createDirectory(atPath: volume.Mountpoint, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("cannot create volume \(name): \(error.localizedDescription)")
        }
        try writeAtomically(try encode(volume), to: "\(directory)/\(name)/volume.json")
        return volume
    }

    public func inspect(_ name: String) throws -> Volume {
        let path = "\(directory)/\(name)/volume.json"
        guard Self.isValid(name), FileManager.default.fileExists(atPath: path) else {
            throw RuntimeError("get \(name): no such volume", code: 1)
        }
        return try decode(Volume.self, readFile(path), what: path)
    }

    public func list() -> [Volume] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { try? inspect($0) }
    }

    /// Removes a volume; `users` are the containers that mount it (removal is refused then).
    func remove(_ name: String, users: [String]) throws {
        _ = try inspect(name)
        guard users.isEmpty else {
            throw RuntimeError("remove \(name): volume is in use - [\(users.joined(separator: ", "))]", code: 1)
        }
        do {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        } catch {
            throw RuntimeError("cannot remove volume \(name): \(error.localizedDescription)")
        }
    }

    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count >= 2 else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.-"))
        return CharacterSet.alphanumerics.contains(first) && name.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    /// Parses a `-v` spec: `NAME:/path[:ro|rw]` (named volume, created when missing) or
    /// `/host/path:/path[:ro|rw]` (bind mount of a host directory).
    func mount(_ spec: String) throws -> MountSpec {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3, parts[1].hasPrefix("/"), !parts[0].isEmpty else {
            throw RuntimeError("invalid volume specification: '\(spec)'")
        }
        var readOnly = false
        if parts.count == 3 {
            guard parts[2] == "ro" || parts[2] == "rw" else { throw RuntimeError("invalid mode: \(parts[2])") }
            readOnly = parts[2] == "ro"
        }
        if parts[0].hasPrefix("/") {
            guard FileManager.default.fileExists(atPath: parts[0]) else {
                throw RuntimeError("invalid mount config: bind source path does not exist: \(parts[0])")
            }
            return MountSpec(volume: nil, source: parts[0], destination: parts[1], readOnly: readOnly)
        }
        let volume = try create(parts[0])
        return MountSpec(volume: volume.Name, source: volume.Mountpoint, destination: parts[1], readOnly: readOnly)
    }
}
