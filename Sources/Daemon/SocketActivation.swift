import Foundation
import HostSystem

/// systemd's socket activation (sd_listen_fds(3)), for `-H fd://`: the service manager
/// binds the listening sockets (swiftletd.socket) and starts swiftletd with them as
/// descriptors 3, 4, …, saying how many in `LISTEN_FDS` and for which process in
/// `LISTEN_PID`. As dockerd (go-systemd's `activation.Listeners`), swiftletd takes them
/// once: the variables are cleared and the descriptors marked close-on-exec, so container
/// monitors neither inherit them nor mistake them for theirs.
public enum SocketActivation {
    public static let firstDescriptor: Int32 = 3

    /// The descriptors `environment` passes to process `pid`; an error when there are
    /// none or they are another process's.
    public static func passedDescriptors(environment: [String: String], pid: pid_t) throws(SwiftletError) -> [Int32] {
        guard let listenPID = environment["LISTEN_PID"], let listenFDs = environment["LISTEN_FDS"] else {
            throw SwiftletError("-H fd://: no sockets were passed (LISTEN_PID and LISTEN_FDS are not set; "
                + "systemd sets them when swiftletd.socket starts swiftletd)", code: .invalidArgument)
        }
        guard pid_t(listenPID) == pid else {
            throw SwiftletError("-H fd://: the sockets passed are for process \(listenPID) (LISTEN_PID), not this one (\(pid))",
                                code: .invalidArgument)
        }
        guard let count = Int32(listenFDs), count > 0, count < 1024 else {
            throw SwiftletError("-H fd://: no sockets were passed (LISTEN_FDS=\(listenFDs))", code: .invalidArgument)
        }
        return Array(firstDescriptor..<(firstDescriptor + count))
    }

    /// The listening sockets for each of `addresses`, in order (none for an address
    /// that is not `fd://`), each checked to be a socket; takes them from this process's
    /// environment as the type describes.
    public static func claim(for addresses: [ListenAddress]) throws(SwiftletError) -> [[Int32]] {
        guard addresses.contains(where: { if case .systemd = $0 { true } else { false } }) else { return addresses.map { _ in [] } }
        let passed = try passedDescriptors(environment: ProcessInfo.processInfo.environment, pid: getpid())
        for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(name) }
        let chosen = try addresses.map { address throws(SwiftletError) -> [Int32] in
            guard case .systemd(let request) = address else { return [] }
            guard let descriptor = request else { return passed }
            guard passed.contains(descriptor) else {
                throw SwiftletError("-H fd://\(descriptor): systemd passed descriptors \(passed[0])…\(passed[passed.count - 1]) only",
                                    code: .invalidArgument)
            }
            return [descriptor]
        }
        for descriptor in passed {
            var status = stat()
            guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else {
                throw SwiftletError("-H fd://: descriptor \(descriptor) (passed by LISTEN_FDS) is not a socket", code: .invalidArgument)
            }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        }
        return chosen
    }
}
