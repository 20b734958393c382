import Foundation
import HostSystem
import Runtime

/// The volume endpoints (moby's `api/server/router/volume`): so far the list, `GET
/// /volumes`, in dockerd's shape (`docker volume ls`).
public enum VolumeRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/volumes") { _, _ in
            try .json(List(Volumes: try await blocking { engine.runtime.volumes.list().map(Entry.init) }, Warnings: []))
        }
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
