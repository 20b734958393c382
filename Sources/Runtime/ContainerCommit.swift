import Foundation
import HostSystem
import Images
#if canImport(Glibc)
import Glibc
#endif

/// What `commit` records besides the layer (Docker's `docker commit` flags and
/// `POST /commit` parameters).
public struct CommitOptions: Sendable {
    /// The new image's name; nil leaves it dangling.
    public var reference: ImageReference?
    public var author: String?
    public var comment: String?
    /// Freeze the container's processes while its changes are read (Docker's default).
    public var pause = true

    public init(reference: ImageReference? = nil, author: String? = nil, comment: String? = nil, pause: Bool = true) {
        self.reference = reference
        self.author = author
        self.comment = comment
        self.pause = pause
    }
}

/// `diff`, `commit` and `export` (Docker's semantics) over a container's file system
/// (`ContainerFilesystem`). A running microVM container is refused: its guest holds the
/// disk's newest state in its page cache, and the agent cannot yet write it back on
/// request.
extension Runtime {
    /// `docker diff`: the container's changes against its image, sorted by path.
    public func changes(_ reference: String) throws -> [UpperChanges.Change] {
        let (filesystem, _) = try filesystem(reference, purpose: "list the changes of")
        return try filesystem.withChanges { try $0.changes(lower: filesystem.imageTree) }
    }

    /// `docker commit`: the container's changes as a new layer on its image, with the
    /// container's configuration (Cmd, Entrypoint, Env, WorkingDir, User) as the new
    /// image's, after `changes` (the `--change` instructions) are applied to it.
    public func commit(_ reference: String, options: CommitOptions,
                       changes: (inout ImageConfig.Runtime) throws -> Void = { _ in }) throws -> ResolvedImage {
        let images = try ImageStore(root: root)
        let config = try containers.find(reference)
        let parent = try images.resolve(config.imageID)
        var runtimeConfig = Self.committedRuntime(config.process, image: parent.config.config ?? ImageConfig.Runtime())
        try changes(&runtimeConfig)
        let layerPath = containers.bundle(config.id).path("commit-\(UUID().uuidString).tar")
        defer { unlink(layerPath) }
        let layer = try writeChanges(reference, to: layerPath, pause: options.pause)
        let created = ImageStore.timestamp(Date())
        let history = ImageConfig.History(created: created, created_by: config.process.args.joined(separator: " "),
                                          author: options.author, comment: options.comment)
        var imageConfig = ImageConfig(platform: parent.config.platform, created: created, config: runtimeConfig,
                                      diffIDs: [], history: (parent.config.history ?? []) + [history])
        imageConfig.author = options.author
        imageConfig.comment = options.comment
        let image = try images.storeImage(parent: parent, layer: layer, config: imageConfig, reference: options.reference)
        recordEvent("commit", config, ["comment": options.comment ?? ""])
        return image
    }

    /// The container's changes as an uncompressed layer tar at `path` (what `commit` and a
    /// build's RUN step store); with `pause`, a running container's processes are frozen
    /// while it is written.
    public func writeChanges(_ reference: String, to path: String, pause: Bool) throws -> ImageStore.NewLayer {
        let (filesystem, state) = try filesystem(reference, purpose: "commit")
        let freeze = pause && state.status == .running && !state.isPaused
        if freeze { try Cgroup.locate(filesystem.config.id).freeze() }
        defer { if freeze { try? Cgroup.locate(filesystem.config.id).thaw() } }
        let diffID = try filesystem.withChanges { try $0.writeLayer(to: path) }
        return ImageStore.NewLayer(tar: path, diffID: diffID)
    }

    /// `docker export`: the container's file system as a tar, written to `path`.
    public func export(_ reference: String, to path: String) throws {
        let (filesystem, state) = try filesystem(reference, purpose: "export")
        // A running container is frozen while its files are read, as for commit.
        let freeze = state.status == .running && !state.isPaused
        if freeze { try Cgroup.locate(filesystem.config.id).freeze() }
        defer { if freeze { try? Cgroup.locate(filesystem.config.id).thaw() } }
        try filesystem.withMergedTree { merged in
            _ = try UpperChanges(upper: merged, excluded: []).writeLayer(to: path)
        }
        recordEvent("export", filesystem.config)
    }

    /// The container's process as image defaults: the image's Entrypoint when the
    /// process still starts with it, the rest as Cmd; the environment without the
    /// HOSTNAME the runtime adds.
    static func committedRuntime(_ process: ProcessSpec, image: ImageConfig.Runtime) -> ImageConfig.Runtime {
        var result = image
        let entrypoint = image.Entrypoint ?? []
        if !entrypoint.isEmpty && process.args.starts(with: entrypoint) {
            result.Cmd = Array(process.args.dropFirst(entrypoint.count))
        } else {
            result.Entrypoint = nil
            result.Cmd = process.args
        }
        result.Env = process.env.filter { !$0.hasPrefix("HOSTNAME=") }
        result.WorkingDir = process.cwd == "/" && image.WorkingDir == nil ? nil : process.cwd
        result.User = process.user.isEmpty ? image.User : process.user
        return result
    }

    private func filesystem(_ reference: String, purpose: String) throws -> (ContainerFilesystem, ContainerState) {
        let config = try containers.find(reference)
        let state = try refreshedState(config)
        if config.isolation == .microvm && state.status != .exited && state.status != .created {
            throw SwiftletError("cannot \(purpose) running microVM container \(config.id): stop it first (the guest's unwritten changes cannot be read from the host yet)",
                                code: .conflict)
        }
        let tree = try ImageStore(root: root).unpackedTree(config.imageID)
        return (ContainerFilesystem(config: config, bundle: containers.bundle(config.id), imageTree: tree), state)
    }
}
