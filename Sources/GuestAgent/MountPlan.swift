import HostSystem
import AgentProtocol
import Glibc

/// One step of building the container root: a mount, a device node or a symbolic link.
/// Paths are absolute in the agent's view (below `MountPlan.root`).
public enum MountStep: Equatable, Sendable {
    /// mount(2); `target` is created first (a directory, refusing symbolic links below
    /// `within` when given, so an image's link cannot point a mount outside the container).
    case mount(source: String, target: String, type: String, flags: UInt, data: String, within: String?)
    case directory(String)
    case characterDevice(path: String, major: UInt32, minor: UInt32)
    case symlink(target: String, path: String)
}

/// How the agent turns a `ContainerSetup` into the container's root (docs: OCI runtime
/// spec config-linux.md "Default Filesystems" and "Default Devices", as runc sets them
/// up): the image's EROFS disk read-only, the writable ext4 disk holding overlayfs
/// upper/work, the overlay as the root, volumes, then /proc, /sys, a tmpfs /dev with
/// the default nodes, /dev/pts (its own instance), /dev/shm, /dev/mqueue and `--tmpfs` mounts.
public struct MountPlan: Equatable, Sendable {
    /// Where the agent keeps the container's disks and root.
    public static let base = "/run/swiftlet"
    public static let lower = "\(base)/rootfs"
    public static let writable = "\(base)/writable"
    public static let root = "\(base)/root"

    public let steps: [MountStep]

    public init(_ setup: ContainerSetup) throws(SwiftletError) {
        let root = Self.root
        let hardened = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        var steps: [MountStep] = [
            .mount(source: setup.rootfs, target: Self.lower, type: "erofs", flags: UInt(MS_RDONLY), data: "", within: nil),
            .mount(source: setup.writable, target: Self.writable, type: "ext4", flags: 0, data: "", within: nil),
            .directory("\(Self.writable)/upper"),
            .directory("\(Self.writable)/work"),
            .mount(source: "overlay", target: root, type: "overlay", flags: 0,
                   data: "lowerdir=\(Self.lower),upperdir=\(Self.writable)/upper,workdir=\(Self.writable)/work", within: nil),
        ]
        for volume in setup.volumes {
            let target = try Self.containerPath(volume.target)
            steps.append(.mount(source: volume.device, target: root + target, type: "ext4",
                                flags: volume.readOnly ? UInt(MS_RDONLY) : 0, data: "", within: root))
        }
        steps += [
            .mount(source: "proc", target: "\(root)/proc", type: "proc", flags: hardened, data: "", within: root),
            .mount(source: "sysfs", target: "\(root)/sys", type: "sysfs",
                   flags: setup.writableSysfs ? hardened : hardened | UInt(MS_RDONLY), data: "", within: root),
            .mount(source: "tmpfs", target: "\(root)/dev", type: "tmpfs", flags: UInt(MS_NOSUID | MS_STRICTATIME),
                   data: "mode=755,size=65536k", within: root),
        ]
        for (name, minor) in [("null", 3), ("zero", 5), ("full", 7), ("random", 8), ("urandom", 9)] {
            steps.append(.characterDevice(path: "\(root)/dev/\(name)", major: 1, minor: UInt32(minor)))
        }
        steps += [
            .characterDevice(path: "\(root)/dev/tty", major: 5, minor: 0),
            .mount(source: "devpts", target: "\(root)/dev/pts", type: "devpts", flags: UInt(MS_NOSUID | MS_NOEXEC),
                   data: "newinstance,ptmxmode=0666,mode=0620,gid=5", within: root),
            .mount(source: "shm", target: "\(root)/dev/shm", type: "tmpfs", flags: hardened, data: "mode=1777,size=65536k", within: root),
            .mount(source: "mqueue", target: "\(root)/dev/mqueue", type: "mqueue", flags: hardened, data: "", within: root),
            .symlink(target: "pts/ptmx", path: "\(root)/dev/ptmx"),
            .symlink(target: "/proc/self/fd", path: "\(root)/dev/fd"),
            .symlink(target: "/proc/self/fd/0", path: "\(root)/dev/stdin"),
            .symlink(target: "/proc/self/fd/1", path: "\(root)/dev/stdout"),
            .symlink(target: "/proc/self/fd/2", path: "\(root)/dev/stderr"),
        ]
        for mount in setup.tmpfs {
            steps.append(.mount(source: "tmpfs", target: root + (try Self.containerPath(mount.target)), type: "tmpfs",
                                flags: UInt(mount.flags), data: mount.data, within: root))
        }
        self.steps = steps
    }

    /// A volume target: absolute, normalised, not `/` and without `..`.
    static func containerPath(_ path: String) throws(SwiftletError) -> String {
        let components = path.split(separator: "/").filter { $0 != "." }
        guard path.hasPrefix("/"), !components.isEmpty, !components.contains("..") else {
            throw SwiftletError("invalid volume target '\(path)': it must be an absolute path inside the container, not / and without '..'", code: .invalidArgument)
        }
        return "/" + components.joined(separator: "/")
    }

    /// The mount points in the order to unmount them (reverse of mounting).
    public var unmountOrder: [String] {
        steps.reversed().compactMap { step in
            if case .mount(_, let target, _, _, _, _) = step { return target }
            return nil
        }
    }
}
