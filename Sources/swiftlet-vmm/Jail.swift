#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import Machine
import VMLaunch

/// The jail a root swiftlet-vmm enters once its machine is built (after Firecracker's
/// jailer, done in-process: the kernel, initramfs, disks, TAP device and /dev/kvm are
/// already open or loaded, so the jail needs none of them by path): a private mount
/// namespace whose root (pivot_root) is a read-only tmpfs holding only the directory of
/// its vsock Unix socket, the uid and gid ``firstID`` + its pid (one unprivileged
/// identity per VM, in no passwd file, holding no capabilities), and no_new_privs.
enum Jail {
    /// The first id of the range the jailed VMMs' uids and gids come from.
    static let firstID: UInt32 = 1_000_000_000
    /// Where the jail's tmpfs root is mounted (in the VMM's own mount namespace) before
    /// pivot_root.
    static let mountPoint = "/run/swiftlet-vmm"

    /// A jail step that failed.
    struct EntryError: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "cannot enter the jail: \(call): \(String(cString: strerror(code)))" }
    }

    /// Whether to jail: by default when running as root (`--no-jail` opts out).
    static func applies(_ arguments: BootArguments) -> Bool {
        geteuid() == 0 && !arguments.noJail
    }

    /// The directories the jail keeps: the vsock socket's, where guest connections to
    /// host ports find their sockets.
    static func keptDirectories(_ configuration: MachineConfiguration) throws(EntryError) -> [String] {
        guard let socket = configuration.vsock?.udsPath else { return [] }
        let directory = socket.contains("/") ? String(socket[..<socket.lastIndex(of: "/")!]) : "."
        guard let resolved = realpath(directory.isEmpty ? "/" : directory, nil) else {
            throw EntryError(call: "realpath(\(directory))", code: errno)
        }
        defer { free(resolved) }
        return [String(cString: resolved)]
    }

    /// Enters the jail; call while this is the process's only thread. The working
    /// directory stays the same path (so a relative vsock socket path still resolves).
    static func enter(keeping directories: [String]) throws(EntryError) {
        let id = firstID + UInt32(getpid())
        var workingDirectory = [CChar](repeating: 0, count: Int(PATH_MAX))
        let hasWorkingDirectory = getcwd(&workingDirectory, workingDirectory.count) != nil
        var failedCall: UnsafePointer<CChar>?
        let paths = directories.map { strdup($0) }
        defer { paths.forEach { free($0) } }
        var pointers = paths.map { UnsafePointer($0) }
        let result = cl_vmm_enter_jail(mountPoint, &pointers, Int32(pointers.count), id, id, &failedCall)
        guard result == 0 else {
            throw EntryError(call: failedCall.map { String(cString: $0) } ?? "jail", code: errno)
        }
        if hasWorkingDirectory { _ = chdir(workingDirectory) }
    }
}
