import Foundation
import HostSystem
import Synchronization
import Images
import Registry
import Runtime

/// What one build is asked for (`swiftlet build`'s flags; `POST /build`'s parameters).
public struct BuildRequest: Sendable {
    /// A directory holding exactly what the build may read: the context after
    /// `.dockerignore` (``BuildContext/stage(into:dockerfile:)``), or the tar a client sent.
    public var context: String
    /// The Dockerfile's path, relative to the context.
    public var dockerfile = "Dockerfile"
    public var tags: [ImageReference] = []
    public var buildArgs: [String: String] = [:]
    public var target: String?
    public var noCache = false
    /// Where RUN executes: a microVM (the default, as `swiftlet run`'s) or a namespace container.
    public var isolation: Isolation = .microvm
    public var network: NetworkMode = .bridge

    public init(context: String) {
        self.context = context
    }
}

/// Builds an image from a Dockerfile as Docker's classic builder does (Dockerfile
/// reference; moby's builder/dockerfile): stage by stage, each instruction a step whose
/// result is an image; RUN executes in a container of the image so far (a microVM or a
/// namespace container, with the same agent and confinement as `swiftlet run`) and its
/// changes become a layer; COPY/ADD and a new WORKDIR lay their files out as a layer; the
/// other instructions change only the config (`empty_layer` history). A step whose cache
/// key (parent, expanded instruction, sources' content) was built before is reused without
/// running anything. Intermediate images stay hidden from `images`; the last one is the result.
public final class ImageBuilder {
    let runtime: Runtime
    let images: ImageStore
    let output: (String) -> Void
    let cache: BuildCache

    /// `output` receives the build's progress text, Docker's lines (`Step 1/4 : …`).
    public init(runtime: Runtime, images: ImageStore, output: @escaping (String) -> Void) throws {
        self.runtime = runtime
        self.images = images
        self.output = output
        cache = try BuildCache(root: runtime.root, images: images)
    }

    /// The state of the stage being built: its newest image and what the next step starts from.
    struct StageState {
        var image: ResolvedImage?
        /// The cache chain: the key of the last step, or the base image's id.
        var key: String
        var history: [ImageConfig.History]
        var platform: Platform
    }

    public func build(_ request: BuildRequest) throws -> ResolvedImage {
        let dockerfileName = cleanPath(request.dockerfile)
        guard !dockerfileName.hasPrefix("/"), dockerfileName != "..", !dockerfileName.hasPrefix("../") else {
            throw SwiftletError("Forbidden path outside the build context: \(request.dockerfile)", code: .invalidArgument)
        }
        let dockerfilePath = "\(request.context)/\(dockerfileName)"
        guard let text = try? String(contentsOfFile: dockerfilePath, encoding: .utf8) else {
            throw SwiftletError("Cannot locate specified Dockerfile: \(request.dockerfile)", code: .notFound)
        }
        let dockerfile = try Dockerfile.parse(text)
        // The client sends the Dockerfile and .dockerignore even when .dockerignore
        // excludes them; COPY must not see them then (dockerd removes them likewise).
        let ignore = try BuildContext(root: request.context).ignore
        for name in [dockerfileName, ".dockerignore"] where ignore.excludes(name) {
            unlink("\(request.context)/\(name)")
        }
        dockerfile.warnings.forEach { output("[WARNING]: \($0)\n") }
        let arguments = try BuildArguments(options: request.buildArgs, dockerfile: dockerfile)
        let stages = try dockerfile.stages(upTo: request.target)
        let total = stages.reduce(0) { $0 + 1 + $1.instructions.count }
        var number = 0
        var results: [Int: ResolvedImage] = [:]
        var last: ResolvedImage?
        for stage in stages {
            number += 1
            output("Step \(number)/\(total) : FROM \(stage.from.baseName)\(stage.from.stageName.map { " AS \($0)" } ?? "")\n")
            let (base, _) = try arguments.resolveBase(of: stage, in: dockerfile)
            var state: StageState
            switch base {
            case .scratch:
                state = StageState(image: nil, key: "scratch", history: [], platform: .linuxAMD64)
            case .stage(let index):
                guard let image = results[index] else { throw SwiftletError("stage \(index) has no image", code: .failed) }
                state = StageState(image: image, key: image.id.description, history: image.config.history ?? [], platform: image.config.platform)
            case .image(let name):
                let image = try baseImage(name)
                state = StageState(image: image, key: image.id.description, history: image.config.history ?? [], platform: image.config.platform)
            }
            if let image = state.image { output(" ---> \(image.id.short)\n") }
            var builder = StageBuilder(dockerfile: dockerfile, stageIndex: stage.index, base: state.image?.config.config, arguments: arguments)
            let triggers = try Dockerfile.parseTriggers(builder.inheritedTriggers, escape: dockerfile.escape)
            if !triggers.isEmpty { output("# Executing \(triggers.count) build trigger\(triggers.count == 1 ? "" : "s")\n") }
            for (index, instruction) in (triggers + stage.instructions).enumerated() {
                if index >= triggers.count {
                    number += 1
                    output("Step \(number)/\(total) : \(instruction.original)\n")
                }
                let step = try builder.dispatch(instruction.instruction)
                try execute(step, builder: builder, state: &state, request: request, results: results)
                output(" ---> \(state.image?.id.short ?? "")\n")
            }
            if state.image == nil {
                // `FROM scratch` and no step: an empty image.
                state.image = try store(state, builder: builder, layer: nil, step: nil)
            }
            results[stage.index] = state.image
            last = state.image
        }
        guard let image = last else { throw SwiftletError("the Dockerfile has no stage to build", code: .invalidArgument) }
        let unused = arguments.unconsumed
        if !unused.isEmpty { output("[Warning] One or more build-args \(unused) were not consumed\n") }
        output("Successfully built \(image.id.short)\n")
        if request.tags.isEmpty {
            try images.setIntermediate(image, false)
        }
        for tag in request.tags {
            try images.tag(image.id.description, as: tag.description)
            output("Successfully tagged \(ImageReference.familiar(tag.description))\n")
        }
        return image
    }

    private func execute(_ step: BuildStep, builder: StageBuilder, state: inout StageState, request: BuildRequest,
                         results: [Int: ResolvedImage]) throws {
        switch step {
        case .metadata(let createdBy):
            try reuseOrBuild(key: createdBy, digest: nil, state: &state, request: request) { current in
                try self.store(current, builder: builder, layer: nil, step: createdBy)
            }
        case .workdir(let path, let createdBy):
            try reuseOrBuild(key: createdBy, digest: nil, state: &state, request: request) { current in
                try self.withStaging(current) { staging in
                    try staging.makeWorkingDirectory(path)
                } store: { layer in
                    try self.store(current, builder: builder, layer: layer, step: createdBy)
                }
            }
        case .run(let run):
            try reuseOrBuild(key: run.createdBy, digest: nil, state: &state, request: request) { current in
                try self.run(run, state: current, builder: builder, request: request)
            }
        case .copy(let copy):
            let root = try sourceRoot(copy.source, request: request, results: results)
            let available = try BuildContext(root: root, ignore: DockerIgnore()).visiblePaths()
            let sources = try CopySources.resolve(copy.sources, among: available, isAdd: copy.isAdd)
            let local = sources.filter { !$0.hasPrefix("http://") && !$0.hasPrefix("https://") }
            let digest = try SourceDigest(root: root, sources: local)
            // A download's content is not known before it is fetched: such a step always runs.
            let label = local.count == sources.count ? digest.historyLabel : "url:\(UUID().uuidString)"
            let createdBy = copy.createdBy(sourceLabel: label)
            // --chmod is not in the history text (as in Docker's), but it changes the layer.
            let chmod = copy.chmod.map { " chmod=\(String($0, radix: 8))" } ?? ""
            try reuseOrBuild(key: createdBy, digest: digest.digest + label + chmod, state: &state, request: request) { current in
                try self.withStaging(current) { staging in
                    try staging.copy(copy, sources: sources, sourceRoot: root)
                    return true
                } store: { layer in
                    try self.store(current, builder: builder, layer: layer, step: createdBy)
                }
            }
        }
    }

    /// Reuses the image a step with the same key made before, or makes it with `make`
    /// from the stage's state.
    private func reuseOrBuild(key createdBy: String, digest: String?, state: inout StageState, request: BuildRequest,
                              _ make: (StageState) throws -> ResolvedImage) throws {
        let key = CacheKey.compute(parent: state.key, createdBy: createdBy, sourceDigest: digest)
        if !request.noCache, let cached = cache.lookup(key) {
            output(" ---> Using cache\n")
            state.image = cached
        } else {
            let image = try make(state)
            try cache.record(key, image)
            state.image = image
        }
        state.history = state.image?.config.history ?? []
        state.key = key
    }

    /// Stores the image a step made: the stage's image so far plus `layer`, the builder's
    /// config, and a history line for `step` (nil: none, for a stage without steps).
    func store(_ state: StageState, builder: StageBuilder, layer: ImageStore.NewLayer?, step: String?) throws -> ResolvedImage {
        let created = ImageStore.timestamp(Date())
        var history = state.history
        if let step { history.append(builder.historyEntry(createdBy: step, created: created, emptyLayer: layer == nil)) }
        var config = ImageConfig(platform: state.platform, created: created, config: builder.config, diffIDs: [], history: history)
        config.author = builder.author
        return try images.storeImage(parent: state.image, layer: layer, config: config, reference: nil, intermediate: true)
    }

    /// Lays a step's files out in a scratch directory (`layOut` says whether there were any)
    /// and stores what it laid out as a layer, or no layer.
    private func withStaging(_ state: StageState, _ layOut: (CopyStaging) throws -> Bool,
                             store: (ImageStore.NewLayer?) throws -> ResolvedImage) throws -> ResolvedImage {
        let scratch = "\(runtime.root)/build-cache/step-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try FileManager.default.createDirectory(atPath: "\(scratch)/stage", withIntermediateDirectories: true)
        let tree = try state.image.map { try images.unpackedTree($0.id.description) }
        guard try layOut(CopyStaging(stage: "\(scratch)/stage", parentTree: tree)) else { return try store(nil) }
        let layer = "\(scratch)/layer.tar"
        let diffID = try UpperChanges(upper: "\(scratch)/stage", excluded: []).writeLayer(to: layer)
        return try store(ImageStore.NewLayer(tar: layer, diffID: diffID))
    }

    /// The base image of a stage, pulled when the store does not have it. The build runs
    /// on a thread of its own (never the concurrency pool), which waits for the pull.
    private func baseImage(_ name: String) throws -> ResolvedImage {
        if let image = try? images.resolve(name) { return image }
        output("Pulling \(name)\n")
        let options = RegistryOptions.defaults(for: try ImageReference(parsing: name))
        let images = images
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<LoadedImage, any Error>?>(nil)
        Task.detached {
            let pulled: Result<LoadedImage, any Error>
            do {
                pulled = .success(try await images.pull(name, options: options))
            } catch {
                pulled = .failure(error)
            }
            result.withLock { $0 = pulled }
            done.signal()
        }
        done.wait()
        do {
            return try result.withLock { $0! }.get().image
        } catch {
            throw SwiftletError.wrap(error, "pull access denied for \(name), repository does not exist or may require 'docker login'")
        }
    }

    /// The root a COPY reads from: the context, an earlier stage's tree or an image's.
    private func sourceRoot(_ source: CopySource, request: BuildRequest, results: [Int: ResolvedImage]) throws -> String {
        switch source {
        case .context: return request.context
        case .stage(let index):
            guard let image = results[index] else { throw SwiftletError("stage \(index) has not been built", code: .invalidArgument) }
            return try images.unpackedTree(image.id.description)
        case .image(let name):
            return try images.unpackedTree(try baseImage(name).id.description)
        }
    }
}
