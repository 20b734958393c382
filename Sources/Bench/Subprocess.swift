import HostSystem
import ChildProcess
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The two clocks a run is timed with: monotonic for durations, realtime to compare
/// with the workload's own `start_realtime_ns` (the only clock a guest shares with us).
struct Clock {
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func realtimeNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// A child process started by the benchmark (a ``ChildProcess``), its stdout collected
/// line by line on a thread of its own (so the process never blocks on a full pipe) and
/// its stderr kept for error messages. Records when it was launched and, from a thread
/// that waits for it, when it exited.
final class Subprocess: Sendable {
    private struct Output {
        var stdout = Data()
        var stderr = Data()
        var stdoutClosed = false
        /// When `watch` first appeared on stdout (monotonic).
        var watchSeen: Double?
    }

    let arguments: [String]
    let launchedRealtime: Int64
    let launchedMonotonic: Double
    private let process: ChildProcess
    private let output = Mutex(Output())
    private let changed = NSCondition()
    /// The monotonic time of exit and the status, set by the waiting thread.
    private let exit = Mutex<(time: Double, status: Int32)?>(nil)
    private let exited = DispatchSemaphore(value: 0)

    /// Called with each complete line the process writes to stderr, as it arrives.
    private let stderrLine: (@Sendable (Substring) -> Void)?
    /// Text whose first arrival on stdout is timed (`watchSeen`).
    private let watch: String?

    /// Launches `arguments[0]` (an absolute path, or a name looked up in PATH).
    init(_ arguments: [String], environment: [String: String]? = nil, watch: String? = nil,
         stderrLine: (@Sendable (Substring) -> Void)? = nil) throws {
        self.stderrLine = stderrLine
        self.watch = watch
        self.arguments = arguments
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { throw SwiftletError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&err) == 0 else {
            [out[0], out[1]].forEach { close($0) }
            throw SwiftletError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        [out[0], out[1], err[0], err[1]].forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        launchedRealtime = Clock.realtimeNanoseconds()
        launchedMonotonic = Clock.monotonic()
        do {
            defer { close(out[1]); close(err[1]) }
            process = try ChildProcess(arguments, environment: environment, stdout: .descriptor(out[1]), stderr: .descriptor(err[1]))
        } catch {
            close(out[0])
            close(err[0])
            throw SwiftletError("\(error)")
        }
        pump(out[0], stdout: true)
        pump(err[0], stdout: false)
        Thread { [self] in
            let status = process.wait() ?? 255
            exit.withLock { $0 = (Clock.monotonic(), status) }
            exited.signal()
        }.start()
    }

    var pid: pid_t { process.pid }

    /// When the watched text first arrived on stdout (monotonic), nil if it has not.
    var watchSeen: Double? { output.withLock { $0.watchSeen } }

    /// The monotonic time the process exited, nil while it runs.
    var exitedMonotonic: Double? { exit.withLock { $0?.time } }

    private func pump(_ fd: Int32, stdout: Bool) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                changed.lock()
                let lines: [Substring] = output.withLock { output in
                    if count > 0 && stdout {
                        output.stdout.append(contentsOf: buffer[0..<count])
                        if let watch, output.watchSeen == nil,
                           String(decoding: output.stdout.suffix(count + watch.utf8.count), as: UTF8.self).contains(watch) {
                            output.watchSeen = Clock.monotonic()
                        }
                    } else if count > 0 {
                        let before = output.stderr.count
                        output.stderr.append(contentsOf: buffer[0..<count])
                        // The lines completed by this read.
                        let start = output.stderr[..<before].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                        guard let end = output.stderr.lastIndex(of: UInt8(ascii: "\n")), end >= before else { return [] }
                        return String(decoding: output.stderr[start..<end], as: UTF8.self).split(separator: "\n")
                    } else if stdout {
                        output.stdoutClosed = true
                    }
                    return []
                }
                if let stderrLine { lines.forEach(stderrLine) }
                changed.broadcast()
                changed.unlock()
                if count <= 0 { break }
            }
            close(fd)
        }
        thread.start()
    }

    var stdout: String { output.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    var stderr: String { output.withLock { String(decoding: $0.stderr, as: UTF8.self) } }

    /// The last lines of stderr (or stdout), for an error message.
    var diagnostics: String {
        let text = stderr.isEmpty ? stdout : stderr
        return text.split(separator: "\n").suffix(3).joined(separator: " | ")
    }

    /// Waits until stdout contains `marker`; returns the monotonic time it was seen.
    func waitFor(_ marker: String, timeout: Double) throws -> Double {
        let deadline = Date(timeIntervalSinceNow: timeout)
        changed.lock()
        defer { changed.unlock() }
        while true {
            let (seen, closed) = output.withLock { (String(decoding: $0.stdout, as: UTF8.self).contains(marker), $0.stdoutClosed) }
            if seen { return Clock.monotonic() }
            if closed { throw SwiftletError("\(arguments[0]) ended before '\(marker)': \(diagnostics)") }
            if !changed.wait(until: deadline) {
                throw SwiftletError("\(arguments[0]) did not print '\(marker)' within \(Int(timeout)) s")
            }
        }
    }

    /// ``waitFor(_:timeout:)``, killing the process when the marker never comes.
    func waitForOrKill(_ marker: String, timeout: Double) throws -> Double {
        do {
            return try waitFor(marker, timeout: timeout)
        } catch {
            signal(SIGKILL)
            throw error
        }
    }

    /// Waits for exit (killing the process after `timeout`); returns the exit status
    /// (128 + N when killed by signal N) and the monotonic time of the exit.
    @discardableResult
    func wait(timeout: Double) -> (status: Int32, exited: Double) {
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.signal(SIGKILL)
            exited.wait()
        }
        exited.signal()
        let (time, status) = exit.withLock { $0 } ?? (Clock.monotonic(), 255)
        // The output pump drains what is left in the pipe (unless a descendant holds it).
        changed.lock()
        let limit = Date(timeIntervalSinceNow: 5)
        while !output.withLock({ $0.stdoutClosed }) && changed.wait(until: limit) {}
        changed.unlock()
        return (status, time)
    }

    /// Sends `signal` to the process.
    func signal(_ signal: Int32) { process.signal(signal) }

    /// Runs to completion; throws with the process's diagnostics unless it exits 0.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 600) throws -> Subprocess {
        let process = try Subprocess(arguments)
        let (status, _) = process.wait(timeout: timeout)
        guard status == 0 else {
            throw SwiftletError("\(arguments.prefix(3).joined(separator: " ")) failed (exit \(status)): \(process.diagnostics)")
        }
        return process
    }
}

/// The `BENCH key=value` lines a workload printed, as numbers.
struct WorkloadOutput {
    let values: [String: Double]

    init(_ text: String) {
        var values: [String: Double] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let range = line.range(of: "BENCH ") else { continue }
            let pair = line[range.upperBound...].split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Double(pair[1].trimmingCharacters(in: .whitespaces)) {
                values[String(pair[0])] = value
            }
        }
        self.values = values
    }

    func require(_ key: String, from command: String) throws -> Double {
        guard let value = values[key] else { throw SwiftletError("the workload printed no \(key) (\(command))") }
        return value
    }
}
