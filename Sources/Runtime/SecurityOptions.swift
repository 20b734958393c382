import HostSystem
import AgentProtocol
import Foundation

/// The security settings of a container as Docker's HostConfig has them: Privileged,
/// CapAdd/CapDrop, SecurityOpt (`seccomp=unconfined|PROFILE.json`, `no-new-privileges`),
/// ReadonlyRootfs, Tmpfs and Sysctls. Checked at `create` (a bad value never makes a
/// container) and turned into a `ContainerConfinement` at each start.
public struct SecurityOptions: Codable, Equatable, Sendable {
    /// Which seccomp profile confines the container's processes.
    public enum Seccomp: Codable, Equatable, Sendable {
        /// Docker's default profile.
        case dockerDefault
        /// No filter (`--security-opt seccomp=unconfined`).
        case unconfined
        /// A profile in Docker's JSON format; its text is kept, as Docker keeps it, so a
        /// later change of the file does not change the container.
        case profile(String)
    }

    /// `--privileged`: every capability, no masked or read-only paths, no seccomp filter,
    /// the host's devices, a writable /sys.
    public var privileged = false
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var seccomp = Seccomp.dockerDefault
    public var noNewPrivileges = false
    /// `--read-only`: the root file system is mounted read-only (volumes, tmpfs mounts,
    /// /dev, /proc stay as they are).
    public var readOnlyRootfs = false
    public var tmpfs: [TmpfsMount] = []
    public var sysctls: [Sysctl] = []
    /// `--userns` (namespace isolation only); nil is `host`.
    public var userNamespace: UserNamespaceMode?

    public init() {}

    /// Applies one `--security-opt` value (Docker's syntax: `key=value`, or the older `key:value`).
    public mutating func apply(securityOpt text: String) throws(SwiftletError) {
        let separator = text.firstIndex(where: { $0 == "=" || $0 == ":" })
        let key = separator.map { String(text[..<$0]) } ?? text
        let value = separator.map { String(text[text.index(after: $0)...]) }
        switch (key, value) {
        case ("no-new-privileges", nil), ("no-new-privileges", "true"):
            noNewPrivileges = true
        case ("no-new-privileges", "false"):
            noNewPrivileges = false
        case ("seccomp", "unconfined"):
            seccomp = .unconfined
        case ("seccomp", let path?) where !path.isEmpty:
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SwiftletError("opening seccomp profile (\(path)) failed: \(String(cString: strerror(errno)))")
            }
            let text = String(decoding: data, as: UTF8.self)
            _ = try SeccompProfile(json: Array(data), source: path)
            seccomp = .profile(text)
        default:
            throw SwiftletError("invalid --security-opt: \"\(text)\" (supported: seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges[=true|false])", code: .invalidArgument)
        }
    }

    /// Checks what `apply` cannot: capability names, sysctl keys, and a user namespace
    /// with `--privileged` (host devices cannot be made inside one).
    public func validate() throws(SwiftletError) {
        if privileged, case .auto = userNamespace {
            throw SwiftletError("--privileged cannot be combined with --userns=auto (use --userns=host)")
        }
        _ = try adjustedCapabilities()
        for sysctl in sysctls { try sysctl.validate() }
    }

    /// Docker's default capability set with `capAdd` and `capDrop` applied (what a
    /// container that is not privileged holds).
    func adjustedCapabilities() throws(SwiftletError) -> Capabilities {
        do {
            return try Capabilities.resolve(base: .dockerDefault, add: capAdd, drop: capDrop)
        } catch {
            throw SwiftletError(error.description)
        }
    }
}

/// A tmpfs mount (`--tmpfs PATH[:OPTIONS]`, Docker's syntax; options as mount(8) has them
/// for tmpfs: ro/rw, [no]exec, [no]suid, [no]dev, sync, [no]atime, size=, mode=, uid=, gid=,
/// nr_inodes=). Docker's defaults `noexec,nosuid,nodev` apply unless overridden.
public struct TmpfsMount: Codable, Equatable, Sendable {
    public var destination: String
    public var options: [String]

    /// Parses `PATH[:OPTIONS]`.
    public init(parsing text: String) throws(SwiftletError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let path = parts.first, path.hasPrefix("/"), path != "/", !path.split(separator: "/").contains("..") else {
            throw SwiftletError("invalid --tmpfs \"\(text)\": the path must be absolute, not / and without ..", code: .invalidArgument)
        }
        destination = path
        options = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
        _ = try mountArguments()
    }

    private static let flagOptions: [String: (set: UInt, clear: UInt)] = [
        "ro": (UInt(MS_RDONLY), 0), "rw": (0, UInt(MS_RDONLY)),
        "noexec": (UInt(MS_NOEXEC), 0), "exec": (0, UInt(MS_NOEXEC)),
        "nosuid": (UInt(MS_NOSUID), 0), "suid": (0, UInt(MS_NOSUID)),
        "nodev": (UInt(MS_NODEV), 0), "dev": (0, UInt(MS_NODEV)),
        "sync": (UInt(MS_SYNCHRONOUS), 0), "async": (0, UInt(MS_SYNCHRONOUS)),
        "noatime": (UInt(MS_NOATIME), 0), "atime": (0, UInt(MS_NOATIME)),
        "relatime": (UInt(MS_RELATIME), 0), "strictatime": (UInt(MS_STRICTATIME), 0),
    ]
    private static let dataOptions: Set<String> = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"]

    /// The mount(2) flags and tmpfs data string.
    public func mountArguments() throws(SwiftletError) -> (flags: UInt, data: String) {
        var flags = UInt(MS_NOEXEC | MS_NOSUID | MS_NODEV)
        var data: [String] = []
        for option in options {
            if let change = Self.flagOptions[option] {
                flags = (flags & ~change.clear) | change.set
            } else if let key = option.split(separator: "=", maxSplits: 1).first, option.contains("="),
                      Self.dataOptions.contains(String(key)) {
                data.append(option)
            } else {
                throw SwiftletError("invalid --tmpfs option \"\(option)\" for \(destination)", code: .invalidArgument)
            }
        }
        return (flags, data.joined(separator: ","))
    }
}

/// A namespaced kernel parameter set in the container before its process starts
/// (`--sysctl KEY=VALUE`): Docker's allowed set, the IPC ones (kernel.msg*, kernel.sem,
/// kernel.shm*, fs.mqueue.*) and `net.*` (the container's own network namespace).
public struct Sysctl: Codable, Equatable, Sendable {
    public var key: String
    public var value: String

    private static let ipcKeys: Set<String> = [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
        "kernel.shmmni", "kernel.shm_rmid_forced",
    ]

    public init(parsing text: String) throws(SwiftletError) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw SwiftletError("invalid --sysctl \"\(text)\": use KEY=VALUE", code: .invalidArgument)
        }
        key = String(text[..<equals])
        value = String(text[text.index(after: equals)...])
        guard key.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }), !key.contains(".."),
              !value.contains("\n") else {
            throw SwiftletError("invalid --sysctl \"\(text)\"", code: .invalidArgument)
        }
    }

    /// Whether the key is one Docker allows (every container has its own network namespace).
    func validate() throws(SwiftletError) {
        if Self.ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.") || key.hasPrefix("net.") { return }
        throw SwiftletError("sysctl '\(key)' is not allowed: only namespaced ones are (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)")
    }

    /// The file under /proc/sys.
    var path: String { "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/") }
}
