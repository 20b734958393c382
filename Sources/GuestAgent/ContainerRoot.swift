import HostSystem
import AgentProtocol
import CLinux
import Glibc

/// Carries out a `MountPlan` and later takes the container root down again.
enum ContainerRoot {
    /// Performs every step; on failure unmounts what was mounted and throws the step's error.
    static func build(_ plan: MountPlan, hostname: String) throws(SwiftletError) {
        var mounted: [String] = []
        do throws(SwiftletError) {
            for step in plan.steps {
                try perform(step)
                if case .mount(_, let target, _, _, _, _) = step { mounted.append(target) }
            }
            if !hostname.isEmpty {
                try sys("sethostname \(hostname)") { sethostname(hostname, hostname.utf8.count) }
            }
        } catch {
            unmount(mounted.reversed())
            throw error
        }
    }

    static func perform(_ step: MountStep) throws(SwiftletError) {
        switch step {
        case .mount(let source, let target, let type, let flags, let data, let within):
            try makeDirectory(target, within: within)
            try sys("mounting \(source) on \(target) (\(type))") { mount(source, target, type, flags, data) }
        case .directory(let path):
            try makeDirectory(path, within: nil)
        case .characterDevice(let path, let major, let minor):
            try sys("mknod \(path)") { sa_mknod_char(path, major, minor) }
            try sys("chmod \(path)") { chmod(path, 0o666) }
        case .symlink(let target, let path):
            if symlink(target, path) < 0 && errno != EEXIST { throw SwiftletError("symlink \(path)", errno: errno) }
        }
    }

    /// mkdir -p; below `within`, an existing component that is a symbolic link or not a
    /// directory is refused (it would resolve in the agent's root, not the container's).
    static func makeDirectory(_ path: String, within: String?) throws(SwiftletError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/\(component)"
            var info = stat()
            if lstat(current, &info) < 0 {
                guard errno == ENOENT else { throw SwiftletError("stat \(current)", errno: errno) }
                try sys("mkdir \(current)") { mkdir(current, 0o755) }
                continue
            }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            if let within, current.count > within.count, !isDirectory {
                throw SwiftletError("mount point \(current.dropFirst(within.count)) is a symbolic link or not a directory in the image")
            }
            if !isDirectory && (info.st_mode & S_IFMT) != S_IFLNK {
                throw SwiftletError("\(current) is not a directory")
            }
        }
    }

    /// Unmounts each target, retrying a busy one for up to a second, then detaching it.
    static func unmount(_ targets: [String]) {
        for target in targets {
            var attempts = 0
            while umount2(target, 0) < 0 {
                if errno == EBUSY && attempts < 100 {
                    attempts += 1
                    sleepMilliseconds(10)
                    continue
                }
                if errno != EINVAL && errno != ENOENT && umount2(target, Int32(MNT_DETACH)) < 0 {
                    consoleLog("cannot unmount \(target): \(String(cString: strerror(errno)))")
                }
                break
            }
        }
    }
}
