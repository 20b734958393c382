import Foundation

/// What the user asked for at `create`/`run` (Docker's container Config + HostConfig
/// subset), before the image's config is merged in.
public struct CreateOptions: Sendable {
    public var image: String
    public var name: String?
    /// CMD arguments after the image name; empty keeps the image's Cmd.
    public var command: [String] = []
    /// `--entrypoint`: nil keeps the image's Entrypoint, "" clears it.
    public var entrypoint: String?
    /// `-e` entries, in order, after the `--env-file` ones: `K=V`, or `K` to copy the host's value.
    public var env: [String] = []
    public var workingDir: String?
    public var user: String?
    public var hostname: String?
    /// `-v` specs: `NAME:/path[:ro]` or `/host/path:/path[:ro]`.
    public var volumes: [String] = []
    public var limits = ResourceLimits()
    /// A microVM per container by default, as Docker with VM isolation (Kata) does.
    public var isolation: Isolation = .microvm
    /// `--network`: the bridge by default, as Docker.
    public var network: NetworkMode = .bridge
    /// `--network-alias`: more names for the container on a user-defined network.
    public var networkAliases: [String] = []
    /// `--label`: metadata, over the image's labels.
    public var labels: [String: String] = [:]
    public var interactive = false
    /// Docker's StdinOnce (`docker run -i` attached): the container's stdin closes when
    /// the attached client ends its input.
    public var stdinOnce = false
    /// `-t`: the process gets a pseudo-terminal as its stdio.
    public var tty = false
    public var autoRemove = false
    /// `--restart`: nil (or `no`) never restarts.
    public var restartPolicy: RestartPolicy?
    public var security = SecurityOptions()
    /// `-p` specs, parsed (`PortBinding.parse`), one entry per port.
    public var ports: [PortBinding] = []
    /// `-P`: every port the image exposes, to an ephemeral host port.
    public var publishAll = false

    public init(image: String) {
        self.image = image
    }

    /// The entries of an `--env-file`: one `K=V` or `K` per line; `#` comments and blank
    /// lines skipped.
    public static func envFileEntries(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// The process a container runs: the merge of image config and user overrides, which both
/// backends execute as given (OCI runtime-spec `process`: args, env, cwd, user).
public struct ProcessSpec: Codable, Equatable, Sendable {
    public var args: [String]
    public var env: [String]
    public var cwd: String
    /// `user[:group]`, names or numbers, resolved against the container's /etc files at start.
    public var user: String

    public init(args: [String], env: [String], cwd: String, user: String) {
        self.args = args
        self.env = env
        self.cwd = cwd
        self.user = user
    }
}

/// A volume mount: a named volume's or host directory's path bound at `destination`.
public struct MountSpec: Codable, Equatable, Sendable {
    /// The named volume, nil for a host directory bind.
    public var volume: String?
    /// Host directory mounted (a named volume's host mount point).
    public var source: String
    /// A named volume's ext4 image (what a microVM mounts), nil for a host directory.
    public var image: String?
    public var destination: String
    public var readOnly: Bool
}

/// A container's fixed configuration, stored as `config.json` in its state directory.
public struct ContainerConfig: Codable, Sendable {
    public var id: String
    public var name: String
    /// The image reference as the user gave it, and the image id it resolved to.
    public var image: String
    public var imageID: String
    /// The image's read-only root as the backend mounts it: the flattened tree (lower
    /// layer of a namespace container's overlayfs) or the EROFS image (a microVM's vda).
    public var rootfs: String
    public var process: ProcessSpec
    public var hostname: String
    public var mounts: [MountSpec]
    public var limits: ResourceLimits
    public var isolation: Isolation
    /// The container's network; nil in configs written before `--network` existed
    /// (those containers have loopback only, as `none`).
    public var network: NetworkMode?
    public var interactive: Bool
    /// Nil in configs written before it existed (false).
    public var stdinOnce: Bool?
    public var tty: Bool
    public var autoRemove: Bool
    /// Nil in configs written before restart policies existed, and for `no`.
    public var restartPolicy: RestartPolicy?
    public var created: Date
    /// Privileges and confinement; nil in configs written before they existed (those
    /// containers get the defaults).
    public var security: SecurityOptions?
    /// The container's user namespace (`--userns=auto`), allocated at create; nil: the
    /// host's ids.
    public var idMapping: IDMapping?
    /// Published ports (`-p`, and the image's exposed ones with `-P`); nil or empty: none.
    public var ports: [PortBinding]?
    /// The networks the container joins when it starts, in order (the first gets the
    /// default route and the published ports); nil in configs written before
    /// user-defined networks (see ``networkEndpoints``).
    public var endpoints: [NetworkEndpoint]?
    /// Metadata: the image's labels with the user's over them (Docker's Config.Labels);
    /// nil in configs written before labels existed.
    public var labels: [String: String]?
}

/// A container's lifecycle state, stored as `state.json` (OCI runtime-spec runtime.md
/// states created/running/stopped; Docker names stopped "exited").
public struct ContainerState: Codable, Sendable {
    /// Where the container is in its lifecycle.
    public enum Status: String, Codable, Sendable {
        /// `restarting`: the process ended and its restart policy starts it again after
        /// a delay (Docker counts such a container as running for stop, kill and rm).
        case created, running, restarting, exited
    }

    public var status: Status = .created
    /// The container's init process (host pid) while running.
    public var pid: Int32?
    /// The monitor process that waits for it and records the exit.
    public var shimPid: Int32?
    public var exitCode: Int32?
    public var oomKilled = false
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Why the last start failed, if it did before the process ran.
    public var error: String?
    /// Where the running container sits on its first network; nil when it is not running
    /// or has no network but loopback.
    public var network: NetworkAttachment?
    /// Its places on its other networks (eth1, …), if any.
    public var otherNetworks: [NetworkAttachment]?
    /// Restarts by the restart policy since the user's last `start` (Docker's RestartCount).
    public var restartCount = 0
    /// Set by the user's `stop` or `kill`, cleared by their `start`: the restart policy
    /// does not restart the container meanwhile (`unless-stopped` not even when the
    /// daemon starts; Docker's HasBeenManuallyStopped).
    public var stoppedByUser = false
    /// Set by `pause` (the cgroup freezer froze the container), cleared by `unpause` and
    /// by the thaw that follows a signal; nil in states written before pausing existed.
    /// Read it through ``isPaused``: a start writes a fresh state, but a container killed
    /// by the host while frozen can leave it set on an exited state.
    public var paused: Bool?

    public init() {}

    /// Whether the container counts as running for `stop`, `kill`, `rm` and `start`:
    /// running, or waiting to be restarted.
    public var isActive: Bool { status == .running || status == .restarting }

    /// Every network the running container is on, its first first.
    public var attachments: [NetworkAttachment] {
        get { (network.map { [$0] } ?? []) + (otherNetworks ?? []) }
        set {
            network = newValue.first
            otherNetworks = newValue.count > 1 ? Array(newValue.dropFirst()) : nil
        }
    }

    /// Whether the container runs frozen (Docker's `State.Paused`: running and paused).
    public var isPaused: Bool { status == .running && paused == true }

    enum CodingKeys: String, CodingKey {
        case status, pid, shimPid, exitCode, oomKilled, startedAt, finishedAt, error, network, otherNetworks, restartCount, stoppedByUser, paused
    }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        status = try values.decode(Status.self, forKey: .status)
        pid = try values.decodeIfPresent(Int32.self, forKey: .pid)
        shimPid = try values.decodeIfPresent(Int32.self, forKey: .shimPid)
        exitCode = try values.decodeIfPresent(Int32.self, forKey: .exitCode)
        oomKilled = try values.decodeIfPresent(Bool.self, forKey: .oomKilled) ?? false
        startedAt = try values.decodeIfPresent(Date.self, forKey: .startedAt)
        finishedAt = try values.decodeIfPresent(Date.self, forKey: .finishedAt)
        error = try values.decodeIfPresent(String.self, forKey: .error)
        network = try values.decodeIfPresent(NetworkAttachment.self, forKey: .network)
        otherNetworks = try values.decodeIfPresent([NetworkAttachment].self, forKey: .otherNetworks)
        // Absent in states written before restart policies and pausing existed.
        restartCount = try values.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
        stoppedByUser = try values.decodeIfPresent(Bool.self, forKey: .stoppedByUser) ?? false
        paused = try values.decodeIfPresent(Bool.self, forKey: .paused)
    }
}
