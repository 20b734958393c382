import Foundation
import HostSystem
import Runtime

/// The volume endpoints (moby's `api/server/router/volume`): list, create (a name of 64
/// hex digits when none is given, as Docker's anonymous volumes), inspect, remove (409
/// while a container uses it) and prune (the anonymous volumes no container uses, or
/// every unused one with the filter `all=true`), in dockerd's shapes.
public enum VolumeRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/volumes") { _, _ in
            try .json(List(Volumes: try await blocking { engine.runtime.volumes.list().map(Entry.init) }, Warnings: []))
        }
        router.add(.POST, "/volumes/create") { request, _ in
            let body = try? JSONDecoder().decode(CreateBody.self, from: Data(request.body.readableBytesView))
            if let driver = body?.Driver, !driver.isEmpty, driver != "local" {
                throw SwiftletError("error looking up volume plugin \(driver): plugin \"\(driver)\" not found", code: .notFound)
            }
            let name = body?.Name.flatMap { $0.isEmpty ? nil : $0 } ?? HostIdentity.randomID()
            return try .json(Entry(try await blocking { try engine.runtime.volumes.create(name) }), status: .created)
        }
        router.add(.GET, "/volumes/{name}") { _, parameters in
            try .json(Entry(try await blocking { try engine.runtime.volumes.inspect(parameters["name"] ?? "") }))
        }
        router.add(.DELETE, "/volumes/{name}") { _, parameters in
            try await blocking { try engine.runtime.removeVolume(parameters["name"] ?? "") }
            return .noContent
        }
        router.add(.POST, "/volumes/prune") { request, _ in
            // Since API 1.42 only anonymous volumes, unless the filter all=true says every one.
            let all = try Filters(request.query["filters"]).isTrue("all")
            let pruned = try await blocking { () -> Pruned in
                var pruned = Pruned(VolumesDeleted: [], SpaceReclaimed: 0)
                for volume in engine.runtime.volumes.list() where all || isAnonymous(volume.Name) {
                    let directory = (volume.Mountpoint as NSString).deletingLastPathComponent
                    let size = allocatedBytes(directory)
                    guard (try? engine.runtime.removeVolume(volume.Name)) != nil else { continue }
                    pruned.VolumesDeleted.append(volume.Name)
                    pruned.SpaceReclaimed += size
                }
                return pruned
            }
            return try .json(pruned)
        }
    }

    struct CreateBody: Decodable {
        var Name: String?
        var Driver: String?
    }

    struct Pruned: Encodable {
        var VolumesDeleted: [String]
        var SpaceReclaimed: Int
    }

    /// The disk space the files under `directory` take (their allocated blocks).
    static func allocatedBytes(_ directory: String) -> Int {
        var total = 0
        let files = FileManager.default.enumerator(atPath: directory)
        while let relative = files?.nextObject() as? String {
            var status = stat()
            if lstat("\(directory)/\(relative)", &status) == 0 { total += Int(status.st_blocks) * 512 }
        }
        return total
    }

    static func isAnonymous(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }


    struct List: Encodable {
        var Volumes: [Entry]
        var Warnings: [String]
    }

    struct Entry: Encodable {
        var Name: String
        var Driver: String
        var Mountpoint: String
        var CreatedAt: String
        var Labels: [String: String]? = nil
        var Options: [String: String]? = nil
        var Scope = "local"

        init(_ volume: Volume) {
            Name = volume.Name
            Driver = volume.Driver
            Mountpoint = volume.Mountpoint
            CreatedAt = ISO8601DateFormatter().string(from: volume.CreatedAt)
        }
    }
}
