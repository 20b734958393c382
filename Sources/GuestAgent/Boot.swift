import CLinux
import Glibc

/// The first steps of PID 1 in the microVM: stdio on the console, the kernel's virtual
/// file systems, and the kernel modules listed in /lib/modules/load-order (dependencies
/// first, computed from modules.dep when the initramfs was built) when the running
/// kernel is the one they were built for (/etc/kernel-release).
public enum Boot {
    public static func prepare() {
        ExitWatcher.blockChildSignals()
        signal(SIGPIPE, SIG_IGN)
        _ = mkdir("/dev", 0o755)
        _ = mount("devtmpfs", "/dev", "devtmpfs", UInt(MS_NOSUID), "mode=0755")
        attachConsole()
        let mounts: [(String, String, String, UInt, String)] = [
            ("proc", "/proc", "proc", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), ""),
            ("sysfs", "/sys", "sysfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), ""),
            ("devpts", "/dev/pts", "devpts", UInt(MS_NOSUID | MS_NOEXEC), "mode=0620,ptmxmode=0666"),
            ("tmpfs", "/dev/shm", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=1777"),
            ("tmpfs", "/run", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755"),
            ("tmpfs", "/tmp", "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=1777"),
        ]
        for (source, target, type, flags, data) in mounts {
            _ = mkdir(target, 0o755)
            if mount(source, target, type, flags, data) < 0 {
                consoleLog("cannot mount \(type) on \(target): \(String(cString: strerror(errno)))")
            }
        }
        loadModules()
    }

    /// Makes fds 0, 1 and 2 the console when the kernel could not open it for init.
    static func attachConsole() {
        guard fcntl(2, F_GETFD) < 0 else { return }
        let console = open("/dev/console", O_RDWR | O_NOCTTY)
        guard console >= 0 else { return }
        for fd in Int32(0)...2 where fcntl(fd, F_GETFD) < 0 { dup2(console, fd) }
        if console > 2 { close(console) }
    }

    static func loadModules() {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let builtFor = readTextFile("/etc/kernel-release")?.split(separator: "\n").first.map(String.init)
        guard release == builtFor, let order = readTextFile("/lib/modules/load-order") else { return }
        for module in order.split(separator: "\n") {
            let path = "/lib/modules/\(module)"
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                consoleLog("cannot open \(path): \(String(cString: strerror(errno)))")
                continue
            }
            if sa_finit_module(fd, "", 0) < 0 && errno != EEXIST {
                consoleLog("cannot load \(module): \(String(cString: strerror(errno)))")
            }
            close(fd)
        }
    }
}
