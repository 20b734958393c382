import HostSystem
import ChildProcess
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// ChildProcess: exit codes, captured output, input, timeouts, and the clean signal state
/// a child starts with whatever the spawning thread blocks.
@Suite struct ChildProcessTests {
    @Test func capturesOutputAndExitCode() throws {
        let result = try ChildProcess.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(!result.timedOut)
    }

    @Test func passesInputEnvironmentAndDirectory() throws {
        let result = try ChildProcess.run(["sh", "-c", "cat; echo \"$GREETING\"; pwd"], environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"],
                                          directory: "/proc", stdin: .bytes(Array("from stdin\n".utf8)))
        #expect(result.stdout == "from stdin\nhello\n/proc\n")
    }

    @Test func aSignalledChildReports128PlusTheSignal() throws {
        #expect(try ChildProcess.run(["sh", "-c", "kill -TERM $$"]).status == 128 + SIGTERM)
    }

    @Test func waitForOutputReturnsWhenTheLineIsWritten() throws {
        let child = try ChildProcess(["sh", "-c", "echo starting; exec sleep 30"])
        defer { _ = child.waitKilling(after: 0) }
        #expect(child.waitForOutput("starting\n", timeout: 30))
        #expect(child.wait(timeout: 0) == nil, "it returned while the child still runs")
        let quiet = try ChildProcess(["true"])
        #expect(!quiet.waitForOutput("never", timeout: 30), "a child that exits without the line ends the wait")
    }

    @Test func aTimeoutKillsTheChild() throws {
        let started = Date()
        let result = try ChildProcess.run(["sleep", "30"], timeout: 0.3)
        #expect(result.timedOut)
        #expect(result.status == 128 + SIGKILL)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// Output goes to files, so a background grandchild that keeps the stream open does
    /// not hold up the caller once the child itself has exited.
    @Test func aDescendantKeepingTheOutputOpenDoesNotBlock() throws {
        let started = Date()
        let result = try ChildProcess.run(["sh", "-c", "sleep 20 & echo parent done"])
        #expect(result.status == 0)
        #expect(result.stdout == "parent done\n")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// A thread that blocks every signal (as Dispatch and test-runner threads do) still
    /// starts children with nothing blocked and default dispositions.
    @Test func childrenStartWithAnEmptySignalMask() throws {
        let box = Box()
        let thread = Thread {
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            box.result = Result { try ChildProcess.run(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]) }
            box.done.signal()
        }
        signal(SIGUSR2, SIG_IGN)
        defer { signal(SIGUSR2, SIG_DFL) }
        thread.start()
        box.done.wait()
        let output = try #require(try box.result?.get()).stdout
        #expect(output.contains("SigBlk:\t0000000000000000"), "\(output)")
        // No standard signal (1-31) ignored; glibc keeps its own two real-time signals.
        let ignored = output.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
        #expect(ignored.map { $0 & 0x7fff_ffff } == 0, "\(output)")
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: SwiftletError.self) { try ChildProcess.run(["no-such-program-here"]) }
    }

    @Test func waitWithATimeoutLeavesTheChildRunning() throws {
        let child = try ChildProcess(["sleep", "30"])
        #expect(child.wait(timeout: 0.1) == nil)
        child.signal(SIGTERM)
        #expect(child.wait(timeout: 10) == 128 + SIGTERM)
        #expect(child.wait() == 128 + SIGTERM, "the status stays once reaped")
    }
}

private final class Box: @unchecked Sendable {
    var result: Result<ChildProcess.Result, any Error>?
    let done = DispatchSemaphore(value: 0)
}
