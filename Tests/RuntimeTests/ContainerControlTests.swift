import ChildProcess
import Foundation
import Runtime
import Testing

/// `pause`/`unpause`, `rename`, `top`, `stats`, `update`, `restart`, `info`, `version` and
/// `events` through the `swiftlet` CLI, with Docker's answers to the wrong cases.
@Suite struct ContainerControlTests {
    /// A detached container printing a counter every 50 ms.
    private func runCounter(_ name: String, _ isolation: Isolation, _ extra: [String] = []) throws {
        try runDetached(name, isolation, extra, "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done")
    }

    /// A detached container of exactly three processes: the shell and two sleeps.
    private func runThreeProcesses(_ name: String, _ isolation: Isolation, _ extra: [String] = []) throws {
        try runDetached(name, isolation, extra, "sleep 600 & sleep 601 & wait")
    }

    private func runDetached(_ name: String, _ isolation: Isolation, _ extra: [String], _ script: String) throws {
        let run = try Swiftlet.execute([Swiftlet.executable, "run", "-d", "--name", name, "--isolation", isolation.rawValue] + extra
            + [Swiftlet.busybox, "sh", "-c", script], root: try Swiftlet.root.get())
        #expect(run.status == 0, "\(run.stderr)")
    }

    /// The last number the counter wrote.
    private func lastCount(_ name: String) throws -> Int {
        Int(try swiftlet("logs", name).stdout.split(separator: "\n").last ?? "") ?? -1
    }

    @Test(arguments: TestIsolation.available)
    func pauseFreezesAndUnpauseResumes(isolation: Isolation) throws {
        let name = Swiftlet.name("pause")
        try runCounter(name, isolation)
        defer { _ = try? swiftlet("rm", "-f", name) }
        let follower = try swiftletInBackground("logs", "-f", name)
        defer { follower.signal(SIGKILL); _ = follower.wait() }
        #expect(follower.waitForOutput("\n3\n", timeout: 120), "\(diagnostics(name))")

        let pause = try swiftlet("pause", name)
        #expect(pause.status == 0 && pause.stdout == "\(name)\n", "\(pause.stderr)")
        let state = try inspected(name, section: "state")
        #expect(state?["paused"] as? Bool == true && state?["status"] as? String == "running")
        #expect(try swiftlet("ps").stdout.split(separator: "\n").contains { $0.contains(name) && $0.contains("(Paused)") })
        // Intervals in which a running counter writes ten lines: the first lets the monitor
        // log what was written before the freeze.
        Thread.sleep(forTimeInterval: 0.5)
        let frozen = try lastCount(name)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try lastCount(name) == frozen, "the counter went on while paused")
        let exec = try swiftlet("exec", name, "true")
        #expect(exec.status != 0 && exec.stderr.contains("is paused, unpause the container before exec"), "\(exec.stderr)")
        let again = try swiftlet("pause", name)
        #expect(again.status == 1 && again.stderr.contains("is already paused"), "\(again.stderr)")

        #expect(try swiftlet("unpause", name).stdout == "\(name)\n")
        #expect(follower.waitForOutput("\n\(frozen + 2)\n", timeout: 60), "the counter did not resume")
        #expect(try swiftlet("exec", name, "true").status == 0)
        #expect(try inspected(name, section: "state")?["paused"] as? Bool == false)
        let notPaused = try swiftlet("unpause", name)
        #expect(notPaused.status == 1 && notPaused.stderr.contains("is not paused"), "\(notPaused.stderr)")
    }

    @Test(arguments: TestIsolation.available)
    func pausingAContainerThatIsNotRunningIsAConflict(isolation: Isolation) throws {
        let name = Swiftlet.name("pause-stopped")
        #expect(try swiftlet("create", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "true").status == 0)
        defer { _ = try? swiftlet("rm", "-f", name) }
        let pause = try swiftlet("pause", name, "no-such-container-here")
        #expect(pause.status == 1)
        #expect(pause.stderr.contains("swiftlet: container \(try containerID(name)) is not running"), "\(pause.stderr)")
        #expect(pause.stderr.contains("swiftlet: No such container: no-such-container-here"), "\(pause.stderr)")
    }

    /// Docker: a signal to a paused container is followed by a thaw, so stop, kill and
    /// rm -f end it.
    @Test(arguments: TestIsolation.available)
    func stopKillAndForceRemoveEndAPausedContainer(isolation: Isolation) throws {
        let stopped = Swiftlet.name("paused-stop"), killed = Swiftlet.name("paused-kill"), removed = Swiftlet.name("paused-rm")
        defer { for name in [stopped, killed, removed] { _ = try? swiftlet("rm", "-f", name) } }
        for name in [stopped, killed, removed] {
            try runCounter(name, isolation)
            #expect(try swiftlet("pause", name).status == 0, "\(diagnostics(name))")
        }
        #expect(try swiftlet("stop", "-t", "2", stopped).status == 0)
        #expect(try inspected(stopped, section: "state")?["status"] as? String == "exited")
        #expect(try swiftlet("kill", killed).status == 0)
        #expect(try swiftlet("wait", killed).stdout == "137\n")
        #expect(try swiftlet("rm", "-f", removed).status == 0)
        #expect(try swiftlet("inspect", removed).status != 0)
    }

    @Test func renameKeepsTheIdAndRefusesATakenName() throws {
        let first = Swiftlet.name("rename-a"), second = Swiftlet.name("rename-b"), renamed = Swiftlet.name("rename-c")
        for name in [first, second] {
            #expect(try swiftlet("create", "--name", name, "--isolation", "namespace", Swiftlet.busybox, "true").status == 0)
        }
        defer { for name in [first, second, renamed] { _ = try? swiftlet("rm", "-f", name) } }
        let id = try containerID(first)
        let rename = try swiftlet("rename", first, renamed)
        #expect(rename.status == 0 && rename.stdout.isEmpty, "\(rename.stderr)")
        #expect(try containerID(renamed) == id)
        #expect(try swiftlet("inspect", first).status != 0)
        let events = Swiftlet.events(of: renamed).replacingOccurrences(of: "\\/", with: "/")
        #expect(events.contains("\"Action\":\"rename\"") && events.contains("\"oldName\":\"/\(first)\""), "\(events)")

        let taken = try swiftlet("rename", renamed, second)
        #expect(taken.status == 1)
        #expect(taken.stderr.contains("Conflict. The container name \"/\(second)\" is already in use by container \"\(try containerID(second))\""),
                "\(taken.stderr)")
        let same = try swiftlet("rename", renamed, renamed)
        #expect(same.status != 0 && same.stderr.contains("Renaming a container with the same name as its current name"))
        let invalid = try swiftlet("rename", renamed, "bad/name")
        #expect(invalid.status != 0 && invalid.stderr.contains("Invalid container name (bad/name)"), "\(invalid.stderr)")
        let missing = try swiftlet("rename", "no-such-container-here", "whatever")
        #expect(missing.status == 1 && missing.stderr.contains("No such container: no-such-container-here"))
    }

    @Test(arguments: TestIsolation.available)
    func topListsTheContainersProcesses(isolation: Isolation) throws {
        let name = Swiftlet.name("top")
        try runThreeProcesses(name, isolation)
        defer { _ = try? swiftlet("rm", "-f", name) }
        let top = try swiftlet("top", name)
        guard isolation == .namespace else {
            #expect(top.status != 0 && top.stderr.contains("not supported for microVM containers"), "\(top.stderr)")
            return
        }
        #expect(top.status == 0, "\(top.stderr)")
        let lines = top.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("UID") == true && lines.first?.contains("PID") == true, "\(top.stdout)")
        #expect(lines.contains { $0.hasSuffix("sleep 600") } && lines.contains { $0.hasSuffix("sleep 601") }, "\(top.stdout)")
        #expect(!top.stdout.contains("swiftlet-shim"), "host processes listed: \(top.stdout)")
        let custom = try swiftlet("top", name, "-o", "pid,comm")
        #expect(custom.stdout.split(separator: "\n").first?.split(separator: " ") == ["PID", "COMMAND"], "\(custom.stdout)")
        #expect(custom.stdout.contains("sleep"))
        let stopped = Swiftlet.name("top-stopped")
        #expect(try swiftlet("create", "--name", stopped, "--isolation", "namespace", Swiftlet.busybox, "true").status == 0)
        defer { _ = try? swiftlet("rm", stopped) }
        #expect(try swiftlet("top", stopped).stderr.contains("is not running"))
    }

    /// `stats --no-stream`: docker's columns, a memory use above 0 and within the
    /// `--memory` limit, the container's three processes.
    @Test func statsShowPlausibleNumbers() throws {
        guard let isolation = TestIsolation.namespaces.first else { return }
        let name = Swiftlet.name("stats")
        try runThreeProcesses(name, isolation, ["--memory", "64m"])
        defer { _ = try? swiftlet("rm", "-f", name) }
        let stats = try swiftlet("stats", "--no-stream", name)
        #expect(stats.status == 0, "\(stats.stderr)")
        let lines = stats.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                == "CONTAINER ID NAME CPU % MEM USAGE / LIMIT MEM % NET I/O BLOCK I/O PIDS", "\(stats.stdout)")
        let row = try #require(lines.dropFirst().first { $0.contains(name) }, "\(stats.stdout)")
        let fields = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        // id, name, cpu%, usage, /, limit, mem%, rx, /, tx, read, /, written, pids
        #expect(fields.count == 14, "\(row)")
        let usage = try #require(Self.bytes(fields[3])), limit = try #require(Self.bytes(fields[5]))
        #expect(usage > 0 && usage <= limit, "\(row)")
        #expect(limit == Double(64 << 20), "\(row)")
        #expect(fields.last == "3", "pids: \(row)")
        #expect(fields[2].hasSuffix("%") && Double(fields[2].dropLast()) != nil, "\(row)")
    }

    /// A size as `stats` prints it (go-units: 1.5MiB, 64MiB, 512KiB, 0B).
    static func bytes(_ text: String) -> Double? {
        for (unit, scale) in [("KiB", 1024.0), ("MiB", 1024.0 * 1024), ("GiB", 1024.0 * 1024 * 1024), ("B", 1.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }

    @Test func updateChangesTheLimitsOfARunningContainer() throws {
        guard let isolation = TestIsolation.namespaces.first else { return }
        let name = Swiftlet.name("update")
        try runThreeProcesses(name, isolation, ["--memory", "64m"])
        defer { _ = try? swiftlet("rm", "-f", name) }
        let update = try swiftlet("update", "--memory", "128m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512", name)
        #expect(update.status == 0 && update.stdout == "\(name)\n", "\(update.stderr)")
        let limits = try inspected(name, section: "config")?["limits"] as? [String: Any]
        #expect(limits?["memory"] as? Int == 128 << 20 && limits?["pids"] as? Int == 50 && limits?["cpuShares"] as? Int == 512,
                "\(String(describing: limits))")
        #expect(limits?["cpus"] as? Double == 0.5)
        let stats = try swiftlet("stats", "--no-stream", name).stdout
        #expect(stats.contains("/ 128MiB"), "the live limit: \(stats)")
        let fork = try swiftlet("exec", name, "sh", "-c", "for i in $(seq 60); do sleep 5 & done; wait")
        #expect(fork.status != 0 && fork.stderr.contains("can't fork"), "60 more processes under a limit of 50: \(fork.stderr)")

        let restart = try swiftlet("update", "--restart", "on-failure:4", name)
        #expect(restart.status == 0, "\(restart.stderr)")
        let policy = try inspected(name, section: "config")?["restartPolicy"] as? [String: Any]
        #expect(policy?["name"] as? String == "on-failure" && policy?["maximumRetryCount"] as? Int == 4, "\(String(describing: policy))")
        let badPolicy = try swiftlet("update", "--restart", "sometimes", name)
        #expect(badPolicy.status == 125 && badPolicy.stderr.contains("invalid restart policy"), "\(badPolicy.stderr)")
        let nothing = try swiftlet("update", name)
        #expect(nothing.status == 1 && nothing.stderr.contains("you must provide one or more flags"))
        let tooSmall = try swiftlet("update", "--memory", "1k", name)
        #expect(tooSmall.status == 125 && tooSmall.stderr.contains("minimum memory limit allowed is 6MB"), "\(tooSmall.stderr)")
    }

    @Test func updateOfARunningMicroVMRefusesAMemoryChange() throws {
        guard TestIsolation.available.contains(.microvm) else { return }
        let name = Swiftlet.name("update-vm")
        try runThreeProcesses(name, .microvm, ["--memory", "128m"])
        defer { _ = try? swiftlet("rm", "-f", name) }
        let memory = try swiftlet("update", "--memory", "256m", name)
        #expect(memory.status == 1 && memory.stderr.contains("memory of a running microVM container is fixed"), "\(memory.stderr)")
        #expect(try swiftlet("update", "--cpus", "0.5", name).status == 0)
        #expect((try inspected(name, section: "config")?["limits"] as? [String: Any])?["cpus"] as? Double == 0.5)
    }

    @Test(arguments: TestIsolation.available)
    func restartStopsAndStartsAgain(isolation: Isolation) throws {
        let name = Swiftlet.name("restart")
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "echo started; exec sleep 600")
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let before = try inspected(name, section: "state")?["startedAt"] as? String
        let restart = try swiftlet("restart", "-t", "1", name)
        #expect(restart.status == 0 && restart.stdout == "\(name)\n", "\(restart.stderr)")
        let state = try inspected(name, section: "state")
        #expect(state?["status"] as? String == "running" && state?["startedAt"] as? String != before, "\(diagnostics(name))")
        let follower = try swiftletInBackground("logs", "-f", name)
        defer { follower.signal(SIGKILL); _ = follower.wait() }
        #expect(follower.waitForOutput("started\nstarted\n", timeout: 120), "\(diagnostics(name))")
        let events = Swiftlet.events(of: name)
        #expect(events.contains("\"Action\":\"stop\"") && events.contains("\"Action\":\"restart\""), "\(events)")
        let missing = try swiftlet("restart", "no-such-container-here")
        #expect(missing.status == 1 && missing.stderr.contains("No such container: no-such-container-here"))
    }

    @Test func infoVersionAndEvents() throws {
        let version = try swiftlet("version")
        #expect(version.status == 0 && version.stdout.contains("Client:") && version.stdout.contains("Kernel version:"), "\(version.stdout)")
        let info = try swiftlet("info")
        for field in ["Containers:", "Running:", "Paused:", "Stopped:", "Images:", "Cgroup Version:", "Root Dir: \(try Swiftlet.root.get())"] {
            #expect(info.stdout.contains(field), "\(field) missing: \(info.stdout)")
        }

        let name = Swiftlet.name("events")
        let started = Date().timeIntervalSince1970
        let follower = try swiftletInBackground("events", "--since", String(started), "--filter", "container=\(name)",
                                                "--filter", "event=create")
        defer { follower.signal(SIGKILL); _ = follower.wait() }
        #expect(try swiftlet("create", "--name", name, "--isolation", "namespace", Swiftlet.busybox, "true").status == 0)
        defer { _ = try? swiftlet("rm", name) }
        let id = try containerID(name)
        #expect(follower.waitForOutput("container create \(id) (image=\(Swiftlet.busybox), name=\(name))\n", timeout: 30), "\(follower.output(1))")
        #expect(!follower.output(1).contains(" start "), "filtered to create")

        let window = try swiftlet("events", "--since", String(started), "--until", String(Date().timeIntervalSince1970 + 1),
                                  "--filter", "container=\(name)")
        #expect(window.status == 0 && window.stdout.contains("container create \(id)"), "\(window.stdout) \(window.stderr)")
        let bad = try swiftlet("events", "--filter", "colour=blue", "--until", "1s")
        #expect(bad.status == 125 && bad.stderr.contains("Invalid filter 'colour'"))
    }
}
