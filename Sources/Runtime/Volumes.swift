import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A named volume: a sparse ext4 image, `<root>/volumes/<name>/volume.ext4`, that outlives
/// the containers using it. One format serves both isolations: a microVM gets the image as
/// a virtio-blk disk that its agent mounts; for namespace containers the host loop-mounts
/// it on `Mountpoint` (`<root>/volumes/<name>/_data`, Docker's local-driver path) while
/// any of them runs, and they bind-mount that directory.
public struct Volume: Codable, Sendable {
    public var Name: String
    public var Driver: String
    /// Where the host mounts the volume while namespace containers use it.
    public var Mountpoint: String
    /// The volume's ext4 image.
    public var Image: String
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
            throw SwiftletError("cannot create \(directory): \(error.localizedDescription)")
        }
    }

    /// Creates a volume, or returns the existing one of that name (as Docker does).
    @discardableResult
    public func create(_ name: String) throws -> Volume {
        guard Self.isValid(name) else {
            throw SwiftletError("\"\(name)\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed", code: .invalidArgument)
        }
        if let existing = try? inspect(name) { return existing }
        let base = "\(directory)/\(name)"
        let volume = Volume(Name: name, Driver: "local", Mountpoint: "\(base)/_data", Image: "\(base)/volume.ext4", CreatedAt: Date())
        do {
            try FileManager.default.createDirectory(atPath: volume.Mountpoint, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(base)/users", withIntermediateDirectories: true)
        } catch {
            throw SwiftletError("cannot create volume \(name): \(error.localizedDescription)")
        }
        if !FileManager.default.fileExists(atPath: volume.Image) {
            try Ext4Image.create(volume.Image, emptyRoot: true)
        }
        let bytes = Array(try encode(volume))
        try AtomicFile.write(bytes, to: "\(base)/volume.json")
        return volume
    }

    public func inspect(_ name: String) throws -> Volume {
        let path = "\(directory)/\(name)/volume.json"
        guard Self.isValid(name), FileManager.default.fileExists(atPath: path) else {
            throw SwiftletError("get \(name): no such volume", code: .notFound)
        }
        return try decode(Volume.self, readFile(path), what: path)
    }

    public func list() -> [Volume] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { try? inspect($0) }
    }

    /// Removes a volume; `users` are the containers that mount it (removal is refused then).
    func remove(_ name: String, users: [String]) throws {
        let volume = try inspect(name)
        guard users.isEmpty else {
            throw SwiftletError("remove \(name): volume is in use - [\(users.joined(separator: ", "))]", code: .conflict)
        }
        if Self.isMountPoint(volume.Mountpoint) { _ = umount2(volume.Mountpoint, Int32(MNT_DETACH)) }
        do {
            try FileManager.default.removeItem(atPath: "\(directory)/\(name)")
        } catch {
            throw SwiftletError("cannot remove volume \(name): \(error.localizedDescription)")
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
            throw SwiftletError("invalid volume specification: '\(spec)'", code: .invalidArgument)
        }
        var readOnly = false
        if parts.count == 3 {
            guard parts[2] == "ro" || parts[2] == "rw" else { throw SwiftletError("invalid mode: \(parts[2])", code: .invalidArgument) }
            readOnly = parts[2] == "ro"
        }
        if parts[0].hasPrefix("/") {
            guard FileManager.default.fileExists(atPath: parts[0]) else {
                throw SwiftletError("invalid mount config: bind source path does not exist: \(parts[0])", code: .invalidArgument)
            }
            return MountSpec(volume: nil, source: parts[0], image: nil, destination: parts[1], readOnly: readOnly)
        }
        let volume = try create(parts[0])
        return MountSpec(volume: volume.Name, source: volume.Mountpoint, image: volume.Image, destination: parts[1], readOnly: readOnly)
    }

    /// Whether `path` is the root of a mount (its device differs from its parent's).
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat("\(path)/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }
}
