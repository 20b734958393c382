import ChildProcess
import CLinux
import Foundation
import Images
import Units
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The container runtime: containers as state directories under `<root>/containers`, their
/// lifecycle (create, start, stop, kill, rm, wait, exec, logs; Docker's semantics), image
/// config merging and volumes, shared by every isolation backend. Holds no mutable state:
/// the state of each container lives on disk, updated under a lock, so CLI invocations and
/// container monitors (separate processes) see one truth.
public final class Runtime: Sendable {
    public let root: String
    /// The running executable (`swiftlet`, or the monitor itself); the monitor,
    /// `swiftlet-shim`, is where ``InstallLayout`` finds it.
    let executable: String
    let containers: ContainerStore
    public let volumes: VolumeStore
    /// The networks containers join (`network create`), and how they join them.
    public let networks: NetworkStore
    let networking: ContainerNetworks

    public init(root: String, executable: String) throws {
        self.root = root
        self.executable = executable
        containers = try ContainerStore(root: root)
        volumes = try VolumeStore(root: root)
        networks = try NetworkStore(root: root)
        networking = ContainerNetworks(store: networks)
    }

    /// Creates a container from an image: merges the image config with `options`, checks
    /// the name, resolves volumes and prepares the backend's storage. Returns its config.
    public func create(_ requested: CreateOptions) throws -> ContainerConfig {
        var options = requested
        let backend = Runtime.backend(options.isolation)
        try backend.validate(options)
        try options.security.validate()
        if options.autoRemove, let policy = options.restartPolicy, policy.name != .no {
            throw SwiftletError("Conflicting options: --restart and --rm (restart policy '\(policy)' with auto-remove)", code: .invalidArgument)
        }
        let endpoints = try endpoints(options)
        try shareNetworkStack(&options)
        let mounts = try options.volumes.map { try volumes.mount($0) }
        let images: ImageStore
        let image: ResolvedImage
        let imageRoot: String
        do {
            images = try ImageStore(root: root)
            image = try images.resolve(options.image)
            imageRoot = try backend.imageRoot(options.image, in: images)
        } catch {
            throw SwiftletError.wrap(error, "Unable to use image '\(options.image)'")
        }
        let config = try containers.whileCreating {
            try create(options, backend: backend, image: image, imageRoot: imageRoot, mounts: mounts, endpoints: endpoints)
        }
        recordEvent("create", config)
        return config
    }

    /// The networks `options` asks for: the default bridge, none, or the named one with
    /// its aliases (which only user-defined networks have, as in Docker).
    private func endpoints(_ options: CreateOptions) throws -> [NetworkEndpoint] {
        let network: NetworkDefinition
        switch options.network {
        case .host, .container:
            if !options.networkAliases.isEmpty {
                throw SwiftletError("network-scoped alias is supported only for containers in user defined networks", code: .invalidArgument)
            }
            return []
        case .none: network = .none
        case .bridge: network = .defaultBridge
        case .named(let reference): network = try networks.resolve(reference)
        }
        if !options.networkAliases.isEmpty && network.isPredefined {
            throw SwiftletError("network-scoped alias is supported only for containers in user defined networks", code: .invalidArgument)
        }
        if network.id == NetworkDefinition.noneID { return [] }
        return [NetworkEndpoint(networkID: network.id, aliases: options.networkAliases.isEmpty ? nil : options.networkAliases)]
    }

    /// The part of `create` that runs under the store's creation lock: the name check,
    /// the user namespace's ids, the bundle.
    private func create(_ options: CreateOptions, backend: any IsolationBackend, image: ResolvedImage,
                        imageRoot: String, mounts: [MountSpec], endpoints: [NetworkEndpoint]) throws -> ContainerConfig {
        let existing = containers.all()
        if let name = options.name {
            guard (try? ContainerName.validate(name)) == name else {
                throw SwiftletError("Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            if let owner = existing.first(where: { $0.name == name }) {
                throw SwiftletError("Conflict. The container name \"/\(name)\" is already in use by container \"\(owner.id)\". You have to remove (or rename) that container to be able to reuse that name.", code: .conflict)
            }
        }
        let id = HostIdentity.randomID()
        let hostname = options.hostname ?? String(id.prefix(12))
        var config = ContainerConfig(
            id: id,
            name: options.name ?? ContainerStore.randomName(taken: Set(existing.map(\.name))),
            image: options.image,
            imageID: image.id.description,
            rootfs: imageRoot,
            process: try ProcessMerge.merge(options, image: image.config.config, hostname: hostname),
            hostname: hostname,
            mounts: mounts,
            limits: options.limits,
            isolation: options.isolation,
            network: options.network,
            interactive: options.interactive,
            stdinOnce: options.stdinOnce,
            tty: options.tty,
            autoRemove: options.autoRemove,
            restartPolicy: options.restartPolicy?.name == .no ? nil : options.restartPolicy,
            created: Date(),
            security: options.security)
        config.ports = try PortBinding.bindings(options, exposed: image.config.config?.ExposedPorts?.keys.sorted() ?? [])
        config.endpoints = endpoints
        config.labels = (image.config.config?.Labels ?? [:]).merging(options.labels) { $1 }
        if case .auto(let size) = options.security.userNamespace {
            config.idMapping = try IDMapping.allocate(
                size: size, uidRanges: SubordinateIDs.ranges(file: "/etc/subuid"),
                gidRanges: SubordinateIDs.ranges(file: "/etc/subgid"), taken: existing.compactMap(\.idMapping))
        }
        let bundle = containers.bundle(id)
        do {
            try sys("mkdir \(bundle.directory)") { mkdir(bundle.directory, 0o711) }
            try backend.prepare(config, bundle: bundle)
            try bundle.updateState { $0 = ContainerState() }
            try bundle.writeConfig(config)
        } catch {
            try? FileManager.default.removeItem(atPath: bundle.directory)
            throw error
        }
        return config
    }

    /// Starts a created or exited container by launching its monitor. Detached, returns
    /// nil once the container runs (or failed to); attached, the monitor writes the
    /// container's output to this process's stdout/stderr (stdin too with `-i`), signals
    /// received here are forwarded, and the container's exit code is returned.
    public func start(_ reference: String, attach: Bool) throws -> Int32? {
        let config = try containers.find(reference)
        let bundle = containers.bundle(config.id)
        let state = try refreshedState(config)
        if state.isActive {
            if attach { throw SwiftletError("container \(config.id) is already running", code: .conflict) }
            return nil
        }
        var ready: [Int32] = [-1, -1]
        try sys("pipe2") { sl_pipe_cloexec(&ready) }
        let shim: ChildProcess
        do {
            defer { close(ready[1]) }
            shim = try spawnMonitor(config.id, readyFD: ready[1], attach: attach, stdin: attach && config.interactive)
        } catch {
            close(ready[0])
            throw error
        }
        var byte: UInt8 = 0
        while read(ready[0], &byte, 1) < 0 && errno == EINTR {}
        close(ready[0])
        guard attach else {
            let after = try bundle.readState()
            if after.status == .exited, let error = after.error { throw SwiftletError(error, code: .init(exitStatus: after.exitCode ?? 125)) }
            return nil
        }
        let forwarders = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { [self] in try? kill(config.id, signal: number) }
            source.resume()
            return source
        }
        defer { forwarders.forEach { $0.cancel() } }
        // With a TTY the container's terminal does the line editing and signal keys: ours
        // goes raw, and our window size changes are passed on.
        let restore = config.tty && config.interactive ? Terminal.makeRaw() : {}
        defer { restore() }
        let resizes = Terminal.onResize { shim.signal(SIGWINCH) }
        defer { resizes.cancel() }
        return shim.wait() ?? 255
    }

    /// Runs the monitor of container `id` in this process (`swiftlet-shim`);
    /// returns the container's exit code. With `restartDelay` it is the successor of a
    /// monitor whose container's restart policy restarts it: it waits that long first.
    public func monitor(_ id: String, readyFD: Int32, attached: Bool, restartDelay: Duration? = nil) throws -> Int32 {
        let config = try containers.find(id)
        return Monitor(runtime: self, config: config, bundle: containers.bundle(config.id))
            .run(readyFD: readyFD, attached: attached, restartDelay: restartDelay)
    }

    /// Launches `swiftlet-shim` in a new session: fd 3 is the ready pipe (if any); stdout
    /// and stderr are ours when attached, else /dev/null. `restartDelay` starts the
    /// successor of a monitor whose container's restart policy restarts it after that wait.
    func spawnMonitor(_ id: String, readyFD: Int32?, attach: Bool, stdin: Bool, restartDelay: Duration? = nil) throws -> ChildProcess {
        let shim = InstallLayout(executable: executable).helper("swiftlet-shim")
        guard access(shim, X_OK) == 0 else {
            throw SwiftletError("cannot start the container monitor: \(shim) is missing (build it with `swift build`)")
        }
        let delay = restartDelay.map { ["--restart-delay-ms", "\(Int(DurationValue.seconds($0) * 1000))"] } ?? []
        let arguments = [shim, "--root", root] + (attach ? ["--attached"] : []) + delay + [id]
        return try ChildProcess(arguments, stdin: stdin ? .inherit : .null, stdout: attach ? .inherit : .null,
                                stderr: attach ? .inherit : .null, descriptors: readyFD.map { [3: $0] } ?? [:], newSession: true)
    }

    /// Removes a container; a running one only with `force` (killed first). A container
    /// that removes itself meanwhile (`--rm`) counts as removed.
    public func remove(_ reference: String, force: Bool) throws {
        let config = try containers.find(reference)
        let bundle = containers.bundle(config.id)
        do {
            let status = try refreshedState(config).status
            if status == .running || status == .restarting {
                guard force else {
                    throw SwiftletError("You cannot remove a \(status.rawValue) container \(config.id). Stop the container before attempting removal or force remove", code: .conflict)
                }
                try killAndWait(config)
            }
        } catch {
            if bundle.exists { throw error }
            return
        }
        try removeFiles(config)
    }

    /// Deletes the container's directory. It is first renamed out of the store (atomic:
    /// of two racing removers, `rm -f` and an `--rm` container's monitor, one takes it and
    /// the other, finding it gone, has nothing left to do), so no process sees it half
    /// deleted.
    func removeFiles(_ config: ContainerConfig) throws {
        let directory = containers.bundle(config.id).directory
        let removing = "\(containers.directory)/.removing-\(config.id)-\(getpid())"
        if rename(directory, removing) < 0 {
            if errno == ENOENT { return }
            throw SwiftletError("cannot remove container \(config.id)", errno: errno)
        }
        networking.disconnect(config, attachments: [])
        recordEvent("destroy", config)
        do {
            try FileManager.default.removeItem(atPath: removing)
        } catch {
            throw SwiftletError("cannot remove container \(config.id): \(error.localizedDescription)")
        }
    }

    /// The state on disk, corrected when the monitor died without recording the exit.
    func refreshedState(_ config: ContainerConfig) throws -> ContainerState {
        let bundle = containers.bundle(config.id)
        let state = try bundle.readState()
        guard state.isActive, let shim = state.shimPid, hasExited(shim) else {
            return state
        }
        _ = Runtime.backend(config.isolation).cleanup(config, bundle: bundle)
        networking.disconnect(config, attachments: state.attachments)
        return try bundle.updateState { state in
            guard state.isActive else { return }
            state.attachments = []
            state.status = .exited
            state.exitCode = 255
            state.error = "the container monitor exited unexpectedly"
            state.pid = nil
            state.finishedAt = Date()
        }
    }

    /// Whether process `pid` has ended: gone, or a zombie its parent has not reaped (a
    /// monitor orphaned under an init that does not reap still counts as dead).
    func hasExited(_ pid: pid_t) -> Bool {
        let pidfd = sl_pidfd_open(pid)
        guard pidfd >= 0 else { return errno == ESRCH }
        defer { close(pidfd) }
        var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }
}
