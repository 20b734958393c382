import ChildProcess
import Foundation
import Runtime
import Testing

/// Docker-compatible behaviour of `swiftlet run` and the lifecycle commands, written once
/// and run under every available isolation.
@Suite struct BehaviourTests {
    @Test(arguments: TestIsolation.available)
    func echoHello(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "echo", "hello")
        #expect(result.status == 0)
        #expect(result.stdout == "hello\n")
    }

    @Test(arguments: TestIsolation.available)
    func exitStatusPropagates(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "sh", "-c", "exit 3")
        #expect(result.status == 3)
    }

    @Test(arguments: TestIsolation.available)
    func missingCommandIs127(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "nonexistent")
        #expect(result.status == 127)
        #expect(result.stderr.contains(#"exec: "nonexistent": executable file not found in $PATH"#))
    }

    @Test(arguments: TestIsolation.available)
    func notExecutableIs126(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "/etc/passwd")
        #expect(result.status == 126)
        #expect(result.stderr.contains(#"exec: "/etc/passwd": Permission denied"#))
    }

    @Test(arguments: TestIsolation.available)
    func envWorkdirUserOverrides(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-e", "FOO=bar", "-w", "/work",
                                  "-u", "1000", Swiftlet.busybox, "sh", "-c", "echo $FOO; pwd; id -u; id -g")
        #expect(result.status == 0)
        #expect(result.stdout == "bar\n/work\n1000\n0\n")
    }

    @Test(arguments: TestIsolation.available)
    func namedUserFromPasswd(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-u", "nobody", Swiftlet.debian,
                                  "sh", "-c", "id -u; echo $HOME")
        #expect(result.status == 0)
        #expect(result.stdout == "65534\n/nonexistent\n")
    }

    @Test(arguments: TestIsolation.available)
    func entrypointOverride(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--entrypoint", "echo", Swiftlet.busybox, "a", "b")
        #expect(result.status == 0)
        #expect(result.stdout == "a b\n")
    }

    /// The image's Cmd (/bin/sh), Env (PATH) and WorkingDir (/) apply when not overridden;
    /// `-i` feeds stdin to that shell.
    @Test(arguments: TestIsolation.available)
    func imageDefaults(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "-i", "--isolation", isolation.rawValue, Swiftlet.debian,
                                  stdin: "echo $PATH; pwd; echo $0\n")
        #expect(result.status == 0)
        #expect(result.stdout == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n/bin/bash\n")
    }

    @Test(arguments: TestIsolation.available)
    func dataSurvivesStopStartAndGoesWithRm(isolation: Isolation) throws {
        let name = Swiftlet.name("data")
        try swiftlet("create", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                     "sh", "-c", "cat /kept 2>/dev/null || echo none; echo kept > /kept")
        #expect(try swiftlet("start", "-a", name).stdout == "none\n")
        #expect(try swiftlet("start", "-a", name).stdout == "kept\n")
        #expect(try swiftlet("rm", name).status == 0)
        #expect(try swiftlet("inspect", name).status != 0)
        let fresh = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "cat", "/kept")
        #expect(fresh.status == 1)
    }

    @Test(arguments: TestIsolation.available)
    func namedVolumeOutlivesContainers(isolation: Isolation) throws {
        let volume = Swiftlet.name("vol")
        let writer = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-v", "\(volume):/data", Swiftlet.busybox,
                                  "sh", "-c", "echo shared > /data/file")
        #expect(writer.status == 0)
        let reader = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-v", "\(volume):/data:ro", Swiftlet.busybox,
                                  "sh", "-c", "cat /data/file; touch /data/other")
        #expect(reader.stdout == "shared\n")
        #expect(reader.stderr.contains("Read-only file system"))
        #expect(try swiftlet("volume", "ls", "-q").stdout.split(separator: "\n").contains { $0 == volume })
        #expect(try swiftlet("volume", "rm", volume).status == 0)
    }

    @Test(arguments: TestIsolation.available)
    func stopDeliversSIGTERM(isolation: Isolation) throws {
        let name = Swiftlet.name("stop")
        let script = "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"
        #expect(try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sh", "-c", script).status == 0)
        // The trap is set once "ready" is out (a microVM's process may start after `run -d` returns).
        let logs = try swiftletInBackground("logs", "-f", name)
        defer { _ = logs.waitKilling(after: 0) }
        #expect(logs.waitForOutput("ready\n", timeout: Swiftlet.commandTimeout))
        let started = Date()
        #expect(try swiftlet("stop", "-t", "10", name).status == 0)
        #expect(Date().timeIntervalSince(started) < 10, "the trap ended the container within the grace period")
        #expect(try swiftlet("wait", name).stdout == "0\n")
        #expect(try swiftlet("logs", name).stdout == "ready\ngot TERM\n")
        try swiftlet("rm", name)
    }

    @Test(arguments: TestIsolation.available)
    func stopKillsAfterGracePeriod(isolation: Isolation) throws {
        let name = Swiftlet.name("grace")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                     "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done")
        #expect(try swiftlet("stop", "-t", "1", name).status == 0)
        #expect(try swiftlet("wait", name).stdout == "137\n")
        try swiftlet("rm", name)
    }

    /// The main process is PID 1 of the container's own pid namespace with a /proc of it,
    /// as Docker's: `ps` run as the main process sees only itself as 1; an `exec`ed one sees
    /// the main process as 1 beside itself, and nothing of the runtime (or the VM's agent).
    @Test(arguments: TestIsolation.available)
    func mainProcessIsPIDOne(isolation: Isolation) throws {
        let alone = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "ps", "-o", "pid,comm")
        #expect(alone.status == 0)
        #expect(processTable(alone.stdout) == [["1", "ps"]])
        let name = Swiftlet.name("pid1")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "100")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let listed = try swiftlet("exec", name, "ps", "-o", "pid,comm")
        #expect(listed.status == 0)
        let table = processTable(listed.stdout)
        #expect(table.map { $0.last ?? "" } == ["sleep", "ps"], "\(listed.stdout)")
        #expect(table.first?.first == "1")
        #expect(try swiftlet("exec", name, "cat", "/proc/1/cmdline").stdout == "sleep\u{0}100\u{0}")
    }

    /// A signal PID 1 has no handler for does not reach it (the kernel's rule for a pid
    /// namespace's init, which Docker containers get): `stop` waits out the grace period,
    /// then SIGKILL ends `sleep` with 137.
    @Test(arguments: TestIsolation.available)
    func stopWaitsForPIDOneWithoutHandler(isolation: Isolation) throws {
        let name = Swiftlet.name("nohandler")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "1000")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let started = Date()
        #expect(try swiftlet("stop", "-t", "2", name).status == 0)
        #expect(Date().timeIntervalSince(started) >= 2, "SIGTERM was ignored for the grace period")
        #expect(try swiftlet("wait", name).stdout == "137\n")
    }

    @Test(arguments: TestIsolation.available)
    func killWithSignal(isolation: Isolation) throws {
        let name = Swiftlet.name("kill")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "100")
        #expect(try swiftlet("kill", "-s", "KILL", name).status == 0)
        #expect(try swiftlet("wait", name).stdout == "137\n")
        #expect(try swiftlet("kill", name).status == 1)
        try swiftlet("rm", name)
    }

    @Test(arguments: TestIsolation.available)
    func execRunsInTheContainer(isolation: Isolation) throws {
        let name = Swiftlet.name("exec")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, "-e", "FROM=run", Swiftlet.busybox,
                     "sh", "-c", "echo marker > /marker; sleep 100")
        let result = try swiftlet("exec", "-e", "EXTRA=1", name, "sh", "-c", "sleep 0.2; cat /marker; echo $FROM$EXTRA; hostname")
        #expect(result.status == 0)
        let hostname = String(try containerID(name).prefix(12))
        #expect(result.stdout == "marker\nrun1\n\(hostname)\n")
        #expect(try swiftlet("exec", name, "sh", "-c", "exit 5").status == 5)
        #expect(try swiftlet("exec", name, "nonexistent").status == 127)
        #expect(try swiftlet("rm", "-f", name).status == 0)
        #expect(try swiftlet("exec", name, "true").status != 0)
    }

    @Test(arguments: TestIsolation.available)
    func detachedLogsPsWait(isolation: Isolation) throws {
        let name = Swiftlet.name("logs")
        // Runs until released (a file appears), however slowly the checks run.
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "echo out; echo err >&2; while [ ! -f /go ]; do sleep 0.1; done; exit 7")
        #expect(run.stdout.trimmed.count == 64)
        #expect(try swiftlet("ps").stdout.contains(name))
        #expect(try swiftlet("ps", "-q").stdout.contains(String(run.stdout.prefix(12))))
        #expect(try swiftlet("exec", name, "touch", "/go").status == 0)
        #expect(try swiftlet("wait", name).stdout == "7\n")
        #expect(!(try swiftlet("ps").stdout.contains(name)))
        let all = try swiftlet("ps", "-a").stdout.split(separator: "\n").first { $0.hasSuffix(name) }
        #expect(all?.contains("Exited (7)") == true)
        let logs = try swiftlet("logs", name)
        #expect(logs.stdout == "out\n")
        #expect(logs.stderr == "err\n")
        try swiftlet("rm", name)
    }

    @Test(arguments: TestIsolation.available)
    func logsFollowUntilExit(isolation: Isolation) throws {
        let name = Swiftlet.name("follow")
        let run = try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                               "sh", "-c", "echo one; sleep 0.5; echo two")
        #expect(run.status == 0, "run -d: \(run.stderr)")
        let logs = try swiftlet("logs", "-f", name)
        #expect(logs.stdout == "one\ntwo\n", "logs -f stderr: \(logs.stderr)\n\(diagnostics(name))")
        try swiftlet("rm", name)
    }

    /// The rows of `ps -o pid,comm` output without its header, split into columns.
    private func processTable(_ output: String) -> [[String]] {
        output.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
    }
}

/// Foreground containers: stdin with `-i`, signals to the client reach the container.
@Suite struct ForegroundTests {
    @Test(arguments: TestIsolation.available)
    func interactiveStdin(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "-i", "--isolation", isolation.rawValue, Swiftlet.busybox, "cat", stdin: "piped\n")
        #expect(result.status == 0)
        #expect(result.stdout == "piped\n")
    }

    @Test(arguments: TestIsolation.available)
    func unknownUserIs126(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-u", "ghost", Swiftlet.busybox, "true")
        #expect(result.status == 126)
        #expect(result.stderr.contains("unable to find user ghost: no matching entries in passwd file"))
    }

    @Test(arguments: TestIsolation.available)
    func clientSignalsAreForwarded(isolation: Isolation) throws {
        let name = Swiftlet.name("fg")
        let run = try swiftletInBackground("run", "--rm", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox,
                                           "sh", "-c", "trap 'exit 4' INT; echo ready; while true; do sleep 0.1; done")
        #expect(run.waitForOutput("ready\n", timeout: Swiftlet.commandTimeout))
        run.signal(SIGINT)
        let (status, _) = run.waitKilling(after: Swiftlet.commandTimeout)
        #expect(status == 4, "\(run.output(2))")
    }
}

/// `-t`: a pseudo-terminal from the container's own devpts as stdio.
@Suite struct TerminalTests {
    @Test(arguments: TestIsolation.available)
    func ttyIsTheContainersTerminal(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "-t", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                  "sh", "-c", "tty; test -t 0 && test -t 1 && echo $TERM; exit 2")
        #expect(result.status == 2)
        #expect(result.stdout == "/dev/pts/0\r\nxterm\r\n")
    }

    @Test(arguments: TestIsolation.available)
    func execWithTty(isolation: Isolation) throws {
        let name = Swiftlet.name("exectty")
        try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "100")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let result = try swiftlet("exec", "-t", name, "sh", "-c", "tty; test -t 0 && echo $TERM; exit 3")
        #expect(result.status == 3)
        #expect(result.stdout == "/dev/pts/0\r\nxterm\r\n")
    }

    /// Under a real terminal (script(1)): `-it` gives the container the client's window
    /// size, and typed input reaches the container's shell through the line discipline.
    @Test(arguments: TestIsolation.available)
    func interactiveTerminal(isolation: Isolation) throws {
        let command = "stty cols 100 rows 30; \(Swiftlet.executable) run --rm -it --root \(try Swiftlet.root.get()) "
            + "--isolation \(isolation.rawValue) \(Swiftlet.busybox) sh -c 'stty size; read line; echo got $line'"
        let result = try Swiftlet.execute(["/usr/bin/script", "-qec", command, "/dev/null"], root: try Swiftlet.root.get(),
                                          stdin: "typed\n")
        #expect(result.status == 0)
        #expect(result.stdout.contains("30 100"))
        #expect(result.stdout.contains("got typed"))
    }

    /// A window size change after the start reaches the container's terminal: under
    /// script(1), `stty` on the client's terminal sends the client SIGWINCH, passed on
    /// through the monitor (microVM: a `resize` message, TIOCSWINSZ in the guest). The
    /// container waits for its size to change; the size changes until it has.
    @Test(arguments: TestIsolation.available)
    func laterResizeReachesTheContainer(isolation: Isolation) throws {
        let root = try Swiftlet.root.get()
        let name = Swiftlet.name("resize")
        let container = #"sh -c 'stty size; s=$(stty size); while [ "$(stty size)" = "$s" ]; do sleep 0.1; done; echo resized; stty size'"#
        let command = """
            stty cols 100 rows 30
            \(Swiftlet.executable) run --rm -it --root \(root) --name \(name) --isolation \(isolation.rawValue) \(Swiftlet.busybox) \(container) < /dev/tty &
            client=$!
            for i in $(seq 600); do \(Swiftlet.executable) exec --root \(root) \(name) true 2>/dev/null && break; sleep 0.1; done
            for i in $(seq 60); do kill -0 $client 2>/dev/null || break; stty cols $((100 + i)) rows 40; sleep 0.5; done
            wait $client
            """
        let result = try Swiftlet.execute(["/usr/bin/script", "-qec", command, "/dev/null"], root: root, stdin: "")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        // (script(1) may type a control character at the end of its input, which the
        // container's terminal echoes before a line.)
        let lines = result.stdout.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.first?.hasSuffix("30 100") == true, "\(result.stdout)")
        #expect(lines.contains { $0.hasSuffix("resized") }, "\(result.stdout)")
        #expect(lines.last?.contains("40 1") == true, "the new size: \(result.stdout)")
    }
}
