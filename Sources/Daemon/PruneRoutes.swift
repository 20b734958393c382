import Foundation
import HostSystem
import Images
import Runtime

/// `docker system df` and the prune endpoints: `GET /system/df` (images with how many
/// containers use each, containers, volumes with their size and users),
/// `POST /containers/prune` (every container that is not running) and
/// `POST /images/prune` (dangling images, or with `dangling=false` every image, that no
/// container uses, and every blob nothing references).
public enum PruneRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/containers/prune") { _, _ in
            try .json(try await blocking { () -> ContainersPruned in
                var pruned = ContainersPruned(ContainersDeleted: [], SpaceReclaimed: 0)
                for container in engine.runtime.list(all: true) where container.state.status != .running {
                    let size = VolumeRoutes.allocatedBytes("\(engine.root)/containers/\(container.config.id)")
                    guard (try? engine.runtime.remove(container.config.id, force: false)) != nil else { continue }
                    pruned.ContainersDeleted.append(container.config.id)
                    pruned.SpaceReclaimed += size
                }
                return pruned
            })
        }
        router.add(.POST, "/images/prune") { request, _ in
            // `docker image prune -a` sends dangling=false: every unused image, not only dangling ones.
            let filters = try Filters(request.query["filters"])
            let all = filters.values["dangling"].map { $0.contains { !APIRequest.isTrue($0) } } ?? false
            let result = try await blocking { () throws -> ImageStore.PruneResult in
                let inUse = Set(engine.runtime.list(all: true).compactMap { try? Digest(parsing: $0.config.imageID) })
                return try engine.images().prune(all: all, inUse: inUse)
            }
            let deleted = result.untagged.map { ["Untagged": ImageReference.familiar($0)] } + result.deleted.map { ["Deleted": $0.description] }
            return try .json(ImagesPruned(ImagesDeleted: deleted, SpaceReclaimed: result.reclaimed))
        }
        router.add(.GET, "/system/df") { _, _ in
            try .json(try await blocking { try usage(engine) })
        }
    }

    struct ContainersPruned: Encodable {
        var ContainersDeleted: [String]
        var SpaceReclaimed: Int
    }

    struct ImagesPruned: Encodable {
        var ImagesDeleted: [[String: String]]
        var SpaceReclaimed: Int64
    }

    struct Usage: Encodable {
        struct Volume: Encodable {
            struct UsageData: Encodable { var Size: Int; var RefCount: Int }
            var Name: String
            var Driver = "local"
            var Mountpoint: String
            var Scope = "local"
            var UsageData: UsageData
        }
        var LayersSize: Int64
        var Images: [ImageRoutes.Summary]
        var Containers: [ContainerRoutes.Summary]
        var Volumes: [Volume]
        var BuildCache: [String] = []
    }

    static func usage(_ engine: Engine) throws -> Usage {
        let containers = engine.runtime.list(all: true)
        let images = try engine.images().list()
        let now = Date()
        return Usage(
            LayersSize: images.reduce(0) { $0 + $1.size },
            Images: images.map { image in
                var summary = ImageRoutes.Summary(image)
                summary.SharedSize = 0
                summary.Containers = containers.filter { $0.config.imageID == image.id.description }.count
                return summary
            },
            Containers: containers.map { ContainerRoutes.Summary($0, now: now) },
            Volumes: engine.runtime.volumes.list().map { volume in
                Usage.Volume(Name: volume.Name, Mountpoint: volume.Mountpoint,
                             UsageData: .init(Size: VolumeRoutes.allocatedBytes((volume.Mountpoint as NSString).deletingLastPathComponent),
                                              RefCount: containers.filter { $0.config.mounts.contains { $0.volume == volume.Name } }.count))
            })
    }
}
