import HostSystem
import ChildProcess
import Foundation
import Runtime
import Testing

/// Commands racing a container's own end (Docker's behaviour): `rm -f` against an `--rm`
/// container removing itself, `wait` on one that removes itself.
@Suite struct LifecycleRaceTests {
    /// `rm -f` kills the container, whose monitor then removes it too: whichever remover
    /// comes second finds nothing left, and `rm -f` still succeeds.
    @Test(arguments: TestIsolation.available)
    func forcedRemovalRacesAutoRemoval(isolation: Isolation) throws {
        for _ in 0..<2 {
            let name = Swiftlet.name("rmrace")
            #expect(try swiftlet("run", "--rm", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                                 "sleep", "100").status == 0)
            let removal = try swiftlet("rm", "-f", name)
            #expect(removal.status == 0, "\(removal.stderr); the container's events: \(Swiftlet.events(of: name))")
            #expect(removal.stderr.isEmpty)
            #expect(try swiftlet("inspect", name).status == 1)
        }
    }

    /// `rm -f` ends even when the container's monitor cannot record the exit (here it is
    /// stopped with SIGSTOP): after `Runtime.killGrace` it kills the monitor too, and the
    /// container's process goes with it (a microVM's VMM, orphaned by its monitor, is
    /// killed by the clean-up; with a stopped monitor the signal request to it also waits
    /// out its reply timeout first).
    @Test(arguments: TestIsolation.available)
    func forcedRemovalEndsWhenTheMonitorIsStuck(isolation: Isolation) throws {
        let name = Swiftlet.name("stuck")
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "100")
        try #require(run.status == 0, "\(run.stderr)")
        let recorded = try inspected(name, section: "state")
        let shim = try #require(recorded?["shimPid"] as? Int)
        let process = try #require(recorded?["pid"] as? Int)
        #expect(kill(pid_t(shim), SIGSTOP) == 0)
        let started = Date()
        let removal = try swiftlet("rm", "-f", name)
        #expect(removal.status == 0, "\(removal.stderr)")
        #expect(Date().timeIntervalSince(started) < 150)
        #expect(try swiftlet("inspect", name).status == 1)
        for (pid, what) in [(shim, "the stuck monitor"), (process, "the container's process")] {
            // Gone, or a zombie its (orphaned) parent has not reaped yet.
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(stat.isEmpty || stat.contains(") Z "), "\(what) was killed: \(stat)")
        }
    }

    /// A `wait` started before an `--rm` container exits prints its exit code, although
    /// the container removes itself right after.
    @Test(arguments: TestIsolation.available)
    func waitReturnsTheCodeOfAContainerThatRemovesItself(isolation: Isolation) throws {
        let name = Swiftlet.name("rmwait")
        let run = try swiftlet("run", "--rm", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "while [ ! -f /go ]; do sleep 0.1; done; exit 9")
        try #require(run.status == 0, "\(run.stderr)")
        let containers = "\(try Swiftlet.root.get())/containers"
        let directory = "\(containers)/\(run.stdout.trimmed)"
        // The waiter is waiting once it holds its shared lock on the container's wait.lock;
        // it opens the state file after taking it, so every open in the directory is a
        // moment to look.
        let opens = try FileChangeWatch(directory, opens: true)
        let waiter = try ChildProcess([Swiftlet.executable, "wait", "--root", try Swiftlet.root.get(), name])
        let deadline = ContinuousClock.now.advanced(by: .seconds(Int(Swiftlet.commandTimeout)))
        var waiting = holdsSharedLock("\(directory)/wait.lock")
        while !waiting, ContinuousClock.now < deadline, waiter.wait(timeout: 0) == nil {
            opens.wait(timeout: 1)
            waiting = holdsSharedLock("\(directory)/wait.lock")
        }
        #expect(waiting, "swiftlet wait took its lock")
        let removals = try FileChangeWatch(containers)
        let released = try swiftlet("exec", name, "touch", "/go")
        #expect(released.status == 0, "\(released.stderr)")
        if released.status != 0 { _ = try? swiftlet("rm", "-f", name) }
        let (status, _) = waiter.waitKilling(after: Swiftlet.commandTimeout)
        #expect(status == 0, "\(waiter.output(2))")
        #expect(waiter.output(1) == "9\n")
        while FileManager.default.fileExists(atPath: directory), ContinuousClock.now < deadline {
            removals.wait(timeout: 1)
        }
        #expect(try swiftlet("inspect", name).status == 1, "the container removed itself after the waiter read its code")
    }

    /// Whether some process holds a shared flock on `path` (/proc/locks lists
    /// "FLOCK ADVISORY READ <pid> <major>:<minor>:<inode> …").
    private func holdsSharedLock(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return false }
        return locks.split(separator: "\n").contains { line in
            line.contains("FLOCK") && line.contains("READ") && line.contains(":\(info.st_ino) ")
        }
    }
}
