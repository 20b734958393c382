import ChildProcess
import Foundation
import HostSystem

/// What the Runtime calls after changing a network's records (``NetworkRecords``): the
/// client side of the embedded DNS server's control socket, `<directory>/control.sock`,
/// where one line `reload` gets `ok` or `error: <message>` back, and the server's start
/// when none runs. (The records themselves are A records, RFC 1035 §3.4.1.)
public enum DNSControl {
    /// Has the server reread the records. Starts it (`serverExecutable --directory
    /// DIRECTORY`, detached: a session of its own, reparented away from this process,
    /// output appended to `<directory>/server.log`) when none answers and some network has
    /// containers; does nothing when none runs and none has. Throws the server's
    /// `error: …` (a bind that failed) as a ``SwiftletError``.
    public static func reload(directory: String = NetworkRecords.defaultDirectory, serverExecutable: String) throws(SwiftletError) {
        if let reply = try request(directory: directory) {
            return try check(reply)
        }
        guard NetworkRecords.all(directory: directory).values.contains(where: { !$0.containers.isEmpty }) else { return }
        try NetworkRecords.makeDirectory(directory)
        try start(serverExecutable, directory: directory)
        let deadline = Monotonic.milliseconds() + 3000
        while true {
            if let reply = try request(directory: directory) { return try check(reply) }
            guard Monotonic.milliseconds() < deadline else {
                throw SwiftletError("the DNS server did not start: see \(directory)/server.log", code: .unavailable)
            }
            usleep(50_000)
        }
    }

    private static func check(_ reply: String) throws(SwiftletError) {
        guard reply == "ok" else {
            throw SwiftletError(reply.hasPrefix("error: ") ? String(reply.dropFirst(7)) : "DNS server: \(reply)")
        }
    }

    /// Sends `reload` and reads the reply line (5 s at most); nil when no server is there
    /// to answer (no socket, refused, or closed without a reply: it was exiting).
    private static func request(directory: String) throws(SwiftletError) -> String? {
        let address = try UnixSocketAddress("\(directory)/control.sock")
        let fd = try UnixSocketAddress.streamSocket()
        defer { close(fd) }
        do {
            try address.connect(fd)
        } catch {
            if error.errno == .noSuchFileOrDirectory || error.errno == .connectionRefused { return nil }
            throw error
        }
        UnixSocketAddress.setTimeout(fd, seconds: 5, for: [SO_RCVTIMEO, SO_SNDTIMEO])
        guard StreamSocket.sendAll(fd, Array("reload\n".utf8)) else {
            if errno == EPIPE || errno == ECONNRESET { return nil }
            throw .last("write \(address.path)")
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw SwiftletError("the DNS server did not answer in 5 s", code: .unavailable)
            }
            if count < 0 && errno != ECONNRESET { throw .last("read \(address.path)") }
            if count <= 0 { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// Starts `executable --directory DIRECTORY --detach`, which starts the server itself
    /// in a new session and exits at once (``spawnDetached(_:output:)``): the server is
    /// then no child of this process, and nobody here has to reap it.
    private static func start(_ executable: String, directory: String) throws(SwiftletError) {
        let logPath = "\(directory)/server.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard log >= 0 else { throw .last("open \(logPath)") }
        defer { close(log) }
        let intermediate = try spawnDetached([executable, "--directory", directory, "--detach"], output: log)
        var status: Int32 = 0
        while waitpid(intermediate, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw SwiftletError("cannot start the DNS server \(executable) (exit code \(WaitStatus.exitCode(status))): see \(logPath)")
        }
    }

    /// posix_spawn(3)s `arguments` in a session of its own (setsid(2)) with stdin
    /// /dev/null, stdout and stderr `output` (this process's own stdout and stderr when
    /// nil), an empty signal mask and default signal dispositions; returns its pid.
    /// Descriptors without close-on-exec are inherited: `swiftlet-dns --detach` marks
    /// them close-on-exec before it starts the server.
    public static func spawnDetached(_ arguments: [String], output: Int32?) throws(SwiftletError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID (glibc 2.26), which Glibc's module does not export.
        let setsid: Int16 = 0x80
        posix_spawnattr_setflags(&attributes, setsid)
        SpawnSignals.reset(&attributes)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard result == 0 else { throw SwiftletError("cannot start \(arguments[0])", errno: result) }
        return pid
    }
}
