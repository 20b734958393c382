import CLinux
import Foundation
import Synchronization
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` and reaped with `waitpid` (POSIX.1-2017,
/// posix_spawn and waitpid), used instead of Foundation's `Process` everywhere Swiftlet
/// and its tests run another program. Two reasons:
/// - the child starts with an empty signal mask and default signal dispositions
///   (``SpawnSignals``), whatever the spawning thread had. Dispatch and Swift Testing
///   threads block nearly every signal, and a child that inherits that mask ignores
///   SIGTERM and never sees SIGCHLD;
/// - the exit is noticed through a pidfd, not through SIGCHLD reaching Foundation's
///   monitor thread. In a process whose threads differ in what they block, `Process`
///   can miss the signal, and `waitUntilExit` then blocks for ever.
///
/// Captured output goes to an unlinked temporary file, not a pipe, so a descendant that
/// keeps the stream open (a detached container monitor) cannot hold up the caller.
public final class ChildProcess: Sendable {
    /// The child's standard input.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// These bytes.
        case bytes([UInt8])
        /// This process's own fd 0.
        case inherit
        /// An fd of this process (the caller keeps it open until the child has started).
        case descriptor(Int32)
    }

    /// Where the child's stdout or stderr goes.
    public enum Output: Sendable {
        /// A temporary file, read back by ``output(_:)`` once the child has exited.
        case capture
        /// `/dev/null`.
        case null
        /// This process's fd of the same number.
        case inherit
        /// An fd of this process (the caller keeps it open until the child has started).
        case descriptor(Int32)
        /// A file, created or truncated, mode 0640 (opened by the child).
        case file(String)
        /// Where stdout goes (for stderr only).
        case standardOutput
    }

    /// How a run ended.
    public struct Result: Sendable {
        /// The exit code, or 128 + N when killed by signal N (the shell's convention).
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// Whether the run was cut off at its timeout (and killed).
        public let timedOut: Bool
    }

    public let pid: pid_t
    public let arguments: [String]
    private let pidfd: Int32
    /// Captured stdout and stderr (fds of unlinked files), -1 when not captured.
    private let captures: [Int32]
    /// The status once reaped.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `arguments[0]` (a path, or a name looked up in PATH, /usr/sbin and /sbin)
    /// with `environment` (default: this process's) in `directory` (default: ours).
    /// `descriptors` hands the child more fds: this process's fd (the value) becomes the
    /// child's fd (the key, 3 or more); every other fd is closed. `newSession` starts the
    /// child in a session of its own (setsid(2)), away from this process's terminal.
    public init(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                stdin: Input = .null, stdout: Output = .capture, stderr: Output = .capture,
                descriptors: [Int32: Int32] = [:], newSession: Bool = false) throws {
        guard let first = arguments.first, let executable = Self.locate(first) else {
            throw SwiftletError("cannot find \(arguments.first ?? "(no command)") in PATH", code: .notFound)
        }
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        switch stdin {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, 0)
        case .bytes(let bytes):
            let (reader, writer) = try Self.temporaryFile()
            opened += [reader, writer]
            guard bytes.withUnsafeBytes({ write(writer, $0.baseAddress, $0.count) }) == bytes.count else {
                throw SwiftletError("cannot write the standard input of \(first)", errno: errno)
            }
            posix_spawn_file_actions_adddup2(&actions, reader, 0)
        }
        var captures: [Int32] = []
        var started = false
        defer { if !started { captures.filter { $0 >= 0 }.forEach { close($0) } } }
        for (number, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .capture:
                // The child gets a write-only fd (QEMU, handed one as /dev/fdset/N,
                // insists that its mode match); this process keeps a read-only one.
                let (reader, writer) = try Self.temporaryFile()
                captures.append(reader)
                opened.append(writer)
                posix_spawn_file_actions_adddup2(&actions, writer, number)
            case .null:
                captures.append(-1)
                posix_spawn_file_actions_addopen(&actions, number, "/dev/null", O_WRONLY, 0)
            case .inherit:
                captures.append(-1)
            case .descriptor(let fd):
                captures.append(-1)
                posix_spawn_file_actions_adddup2(&actions, fd, number)
            case .file(let path):
                captures.append(-1)
                posix_spawn_file_actions_addopen(&actions, number, path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
            case .standardOutput:
                captures.append(-1)
                posix_spawn_file_actions_adddup2(&actions, 1, number)
            }
        }
        for (target, source) in descriptors.sorted(by: { $0.key < $1.key }) {
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }
        sl_spawn_file_actions_addclosefrom(&actions, (descriptors.keys.max() ?? 2) + 1)
        if let directory { sl_spawn_file_actions_addchdir(&actions, directory) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newSession { posix_spawnattr_setflags(&attributes, SL_POSIX_SPAWN_SETSID) }
        SpawnSignals.reset(&attributes)
        let environmentLines = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?]? = environmentLines.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = envp == nil
            ? posix_spawn(&child, executable, &actions, &attributes, &argv, environ)
            : posix_spawn(&child, executable, &actions, &attributes, &argv, &envp!)
        guard result == 0 else { throw SwiftletError("cannot start \(executable)", errno: result) }
        started = true
        pid = child
        pidfd = sl_pidfd_open(child)
        self.captures = captures
    }

    deinit {
        if pidfd >= 0 { close(pidfd) }
        captures.filter { $0 >= 0 }.forEach { close($0) }
    }

    /// Waits for the child to exit and reaps it; its status (see ``Result/status``), or
    /// nil when `timeout` seconds passed first (the child still runs).
    public func wait(timeout: Double? = nil) -> Int32? {
        let deadline = timeout.map { Self.now() + $0 }
        while true {
            // Reaped under the lock, so a second waiter never records waitpid's ECHILD.
            let reaped = exitStatus.withLock { stored -> Int32? in
                if stored == nil {
                    var status: Int32 = 0
                    let result = waitpid(pid, &status, WNOHANG)
                    if result == pid { stored = WaitStatus.exitCode(status) } else if result < 0 && errno != EINTR { stored = 255 }
                }
                return stored
            }
            if let reaped { return reaped }
            var remaining = Int32(1000)
            if let deadline {
                let left = deadline - Self.now()
                if left <= 0 { return nil }
                remaining = Int32(min(left * 1000, 1000).rounded(.up))
            }
            // The pidfd turns readable at exit; without one, poll every 10 ms.
            if pidfd >= 0 {
                var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, remaining)
            } else {
                usleep(10_000)
            }
        }
    }

    /// Waits for the child to exit; after `timeout` seconds (if given) kills it with
    /// SIGKILL and reaps it. Its status, and whether the timeout cut it off.
    public func waitKilling(after timeout: Double?) -> (status: Int32, timedOut: Bool) {
        if let status = wait(timeout: timeout) { return (status, false) }
        signal(SIGKILL)
        return (wait() ?? 128 + SIGKILL, true)
    }

    /// Sends `signal` to the child (nothing once it has been reaped).
    public func signal(_ signal: Int32) {
        if pidfd >= 0 { _ = sl_pidfd_send_signal(pidfd, signal) } else { kill(pid, signal) }
    }

    /// Waits until what the child wrote to captured stdout (1) or stderr (2) contains
    /// `marker` (true), or the child exits without writing it or `timeout` seconds pass
    /// (false). Woken by inotify on the capture file, not a timer.
    public func waitForOutput(_ marker: String, stream: Int32 = 1, timeout: Double) -> Bool {
        guard stream == 1 || stream == 2, captures[Int(stream) - 1] >= 0,
              let changes = try? FileChangeWatch("/proc/self/fd/\(captures[Int(stream) - 1])") else { return false }
        let deadline = Self.now() + timeout
        while true {
            if output(stream).contains(marker) { return true }
            if wait(timeout: 0) != nil { return output(stream).contains(marker) }
            let left = deadline - Self.now()
            if left <= 0 { return false }
            // A write wakes it; the cap only bounds how late an exit is noticed.
            changes.wait(timeout: min(left, 1))
        }
    }

    /// What the child wrote to stdout (1) or stderr (2) when captured, as text; complete
    /// once it has exited.
    public func output(_ stream: Int32) -> String {
        String(decoding: outputBytes(stream), as: UTF8.self)
    }

    /// What the child wrote to stdout (1) or stderr (2) when captured; complete once it
    /// has exited.
    public func outputBytes(_ stream: Int32) -> [UInt8] {
        guard stream == 1 || stream == 2, captures[Int(stream) - 1] >= 0 else { return [] }
        let fd = captures[Int(stream) - 1]
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = pread(fd, &buffer, buffer.count, offset)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += buffer[0..<count]
            offset += off_t(count)
        }
        return bytes
    }

    /// Runs `arguments` to completion, capturing stdout and stderr. After `timeout`
    /// seconds the child is killed (SIGKILL) and the result says so.
    public static func run(_ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
                           stdin: Input = .null, timeout: Double? = nil) throws -> Result {
        let child = try ChildProcess(arguments, environment: environment, directory: directory, stdin: stdin)
        let (status, timedOut) = child.waitKilling(after: timeout)
        return Result(status: status, stdout: child.output(1), stderr: child.output(2), timedOut: timedOut)
    }

    /// An executable path for `name`: itself when it contains a slash, else from PATH
    /// (then /usr/sbin and /sbin, often missing from a non-login PATH).
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }


    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// An unlinked file in the temporary directory, open once read-only and once
    /// write-only (both close-on-exec).
    private static func temporaryFile() throws -> (reader: Int32, writer: Int32) {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(directory)/swiftlet-output-XXXXXX".utf8CString)
        let created = mkstemp(&template)
        guard created >= 0 else { throw SwiftletError("cannot create a temporary file in \(directory)", errno: errno) }
        defer {
            close(created)
            unlink(template)
        }
        let reader = open(template, O_RDONLY | O_CLOEXEC)
        let writer = open(template, O_WRONLY | O_CLOEXEC)
        guard reader >= 0, writer >= 0 else {
            let code = errno
            [reader, writer].filter { $0 >= 0 }.forEach { close($0) }
            throw SwiftletError("cannot open a temporary file in \(directory)", errno: code)
        }
        return (reader, writer)
    }
}

/// The signal state a spawned child starts with: nothing blocked, every signal at its
/// default action, as after a login. A child otherwise inherits the mask of the thread
/// that spawned it, and Dispatch and test-runner threads block nearly every signal.
public enum SpawnSignals {
    /// Sets `attributes` to start the child with an empty mask and default dispositions
    /// (keeping flags already set, such as POSIX_SPAWN_SETSID).
    public static func reset(_ attributes: inout posix_spawnattr_t) {
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags: Int16 = 0
        posix_spawnattr_getflags(&attributes, &flags)
        posix_spawnattr_setflags(&attributes, flags | Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }
}
