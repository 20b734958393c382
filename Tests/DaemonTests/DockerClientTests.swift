import ChildProcess
import Foundation
import HostSystem
import Testing

/// The stock `docker` client against a `swiftletd` over a state root the `swiftlet` CLI
/// also uses: `version`, `info`, `images`, `ps -a` and `volume ls` show what the CLI made,
/// in dockerd's shapes. Skips, saying why, where the docker client is not installed.
@Suite(.serialized) struct DockerClientTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let products = repository.appendingPathComponent(".build/debug")

    /// A daemon on a private socket and state root, with the busybox test image loaded,
    /// whose containers get `isolation` by default. Inside the rig (`$SWIFTLET_TEST_ROOT`
    /// set, on its tmpfs) the root sits beside that one and shares its prepared images.
    /// `listen` replaces its `-H` options; `wrapper` is a command line that runs the
    /// daemon's own (appended to it), with `descriptors` handed to the wrapper.
    final class Daemon {
        let root: String
        let isolation: String
        var socket: String { "\(root)/swiftletd.sock" }
        private let command: [String]
        private let descriptors: [Int32: Int32]
        private(set) var process: ChildProcess

        init(isolation: String = "namespace", listen: [String]? = nil, wrapper: [String] = [],
             descriptors: [Int32: Int32] = [:]) throws {
            self.isolation = isolation
            let prepared = ProcessInfo.processInfo.environment["SWIFTLET_TEST_ROOT"]
            root = (prepared ?? NSTemporaryDirectory() + "swiftletd-test") + "-\(UUID().uuidString.prefix(8))"
            command = wrapper + [DockerClientTests.products.appendingPathComponent("swiftletd").path, "--root", root]
                + (listen ?? ["-H", "unix://\(root)/swiftletd.sock"]) + ["--default-isolation", isolation]
            self.descriptors = descriptors
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            if let prepared {
                try FileManager.default.createSymbolicLink(atPath: "\(root)/images", withDestinationPath: "\(prepared)/images")
                process = try Self.start(command, descriptors: descriptors)
                return
            }
            let images = DockerClientTests.repository.appendingPathComponent("scripts/test-images")
            let build = try ChildProcess.run([images.appendingPathComponent("build").path], timeout: 3600)
            guard build.status == 0 else { throw SwiftletError("scripts/test-images/build failed: \(build.stderr)") }
            let load = try ChildProcess.run([DockerClientTests.swiftlet, "image", "load", "--root", root, "-i",
                                             images.appendingPathComponent("out/busybox").path])
            guard load.status == 0 else { throw SwiftletError("image load failed: \(load.stderr)") }
            process = try Self.start(command, descriptors: descriptors)
        }

        static func start(_ command: [String], descriptors: [Int32: Int32]) throws -> ChildProcess {
            let process = try ChildProcess(command, descriptors: descriptors)
            guard process.waitForOutput("API listening on", stream: 2, timeout: 60) else {
                throw SwiftletError("swiftletd did not start: \(process.output(2))")
            }
            return process
        }

        /// Kills the daemon with SIGKILL and starts another on the same state root, after
        /// `whileDown` (a simulated reboot, for one).
        func killAndRestart(whileDown: () throws -> Void = {}) throws {
            process.signal(SIGKILL)
            _ = process.wait()
            try whileDown()
            process = try Self.start(command, descriptors: descriptors)
        }

        deinit {
            process.signal(SIGTERM)
            _ = process.waitKilling(after: 30)
            _ = try? cli("rm", "-f", "dc-exited", "dc-running")
            try? FileManager.default.removeItem(atPath: root)
        }

        func docker(_ arguments: String...) throws -> ChildProcess.Result {
            try docker(arguments)
        }

        func docker(_ arguments: [String]) throws -> ChildProcess.Result {
            try ChildProcess.run(["docker", "-H", "unix://\(socket)"] + arguments, timeout: 60)
        }

        func cli(_ arguments: String...) throws -> ChildProcess.Result {
            let environment = ProcessInfo.processInfo.environment.merging(["SWIFTLET_ROOT": root]) { $1 }
            return try ChildProcess.run([DockerClientTests.swiftlet] + arguments, environment: environment, timeout: 120)
        }
    }

    static let swiftlet = products.appendingPathComponent("swiftlet").path

    func dockerClient() -> Bool {
        guard ChildProcess.locate("docker") != nil else {
            print("DockerClientTests: skipped, the docker client is not installed")
            return false
        }
        return true
    }

    @Test func versionInfoAndTheListsShowWhatTheCLIMade() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let version = try daemon.docker("version")
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.contains("Server: Swiftlet") && version.stdout.contains("API version:       1.44"), "\(version.stdout)")

        let info = try daemon.docker("info")
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("Default Runtime: swiftlet-namespace") && info.stdout.contains("Docker Root Dir: \(daemon.root)"),
                "\(info.stdout)")

        let images = try daemon.docker("images")
        #expect(images.stdout.split(separator: "\n").contains { $0.hasPrefix("swiftlet-test/busybox") && $0.contains("latest") },
                "\(images.stdout)")

        #expect(try daemon.cli("run", "--name", "dc-exited", "--isolation", "namespace", "swiftlet-test/busybox",
                               "sh", "-c", "exit 3").status == 3)
        #expect(try daemon.cli("run", "-d", "--name", "dc-running", "--isolation", "namespace", "swiftlet-test/busybox",
                               "sleep", "60").status == 0)
        #expect(try daemon.cli("volume", "create", "dc-volume").status == 0)
        let all = try daemon.docker("ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Command}}|{{.Image}}")
        let lines = all.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("dc-exited|Exited (3) ") && $0.hasSuffix(#"|"sh -c 'exit 3'"|swiftlet-test/busybox"#) }, "\(all.stdout)")
        #expect(lines.contains { $0.hasPrefix("dc-running|Up ") }, "\(all.stdout)")
        let running = try daemon.docker("ps", "--format", "{{.Names}}")
        #expect(running.stdout == "dc-running\n")
        let volumes = try daemon.docker("volume", "ls", "--format", "{{.Driver}} {{.Name}}")
        #expect(volumes.stdout == "local dc-volume\n")
    }

    /// `run -d`, `stop`, `wait`, `start`, `kill`, `rm` through the daemon, with dockerd's
    /// answers for a stopped container, a missing one and a bad runtime name.
    @Test func lifeCycleThroughTheDaemon() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let run = try daemon.docker("run", "-d", "--name", "dc-running", "swiftlet-test/busybox", "sh", "-c",
                                    "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done")
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        let logs = try ChildProcess([DockerClientTests.swiftlet, "logs", "-f", "--root", daemon.root, "dc-running"])
        #expect(logs.waitForOutput("ready\n", timeout: 60))
        #expect(try daemon.docker("ps", "--format", "{{.ID}} {{.Names}}").stdout == "\(id.prefix(12)) dc-running\n")
        #expect(try daemon.docker("stop", "-t", "10", "dc-running").stdout == "dc-running\n")
        #expect(try daemon.docker("wait", "dc-running").stdout == "7\n")
        #expect(try daemon.docker("stop", "dc-running").status == 0, "stopping a stopped container is not an error")
        #expect(try daemon.docker("start", "dc-running").status == 0)
        #expect(try daemon.docker("kill", "dc-running").status == 0)
        #expect(try daemon.docker("wait", "dc-running").stdout == "137\n")
        let killStopped = try daemon.docker("kill", "dc-running")
        #expect(killStopped.status == 1 && killStopped.stderr.contains("is not running"), "\(killStopped.stderr)")
        #expect(try daemon.docker("rm", "dc-running").status == 0)
        let missing = try daemon.docker("rm", "dc-running")
        #expect(missing.status == 1 && missing.stderr.contains("No such container: dc-running"), "\(missing.stderr)")
        let badRuntime = try daemon.docker("run", "-d", "--runtime", "swiftlet-bogus", "swiftlet-test/busybox", "true")
        #expect(badRuntime.status == 125 && badRuntime.stderr.contains("unknown or invalid runtime name: swiftlet-bogus"))
        _ = logs.waitKilling(after: 0)
    }

    /// `docker run` in the foreground: the output over the hijacked attach (stdout and
    /// stderr apart), the exit status, 127 for a missing command; `logs` afterwards.
    @Test func foregroundRunAttachesAndReportsTheExitStatus() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let hello = try daemon.docker("run", "--rm", "swiftlet-test/busybox", "echo", "hi")
        #expect(hello.status == 0 && hello.stdout == "hi\n", "\(hello.stdout) \(hello.stderr)")
        let three = try daemon.docker("run", "--name", "dc-exited", "swiftlet-test/busybox", "sh", "-c",
                                      "echo out; echo err >&2; exit 3")
        #expect(three.status == 3 && three.stdout == "out\n" && three.stderr == "err\n", "\(three.stdout) \(three.stderr)")
        let logs = try daemon.docker("logs", "dc-exited")
        #expect(logs.stdout == "out\n" && logs.stderr == "err\n")
        let inspect = try daemon.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "dc-exited")
        #expect(inspect.stdout == "exited 3 /dc-exited\n", "\(inspect.stdout) \(inspect.stderr)")
        let missing = try daemon.docker("run", "--rm", "swiftlet-test/busybox", "nosuchcommand")
        #expect(missing.status == 127, "\(missing.stderr)")
        #expect(try daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout == "dc-exited\n", "--rm containers are gone")
    }

    /// A volume made through the daemon keeps data across two containers; removing it
    /// while a container uses it is refused; prune takes anonymous volumes, `-a` all.
    @Test func volumesThroughTheDaemon() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        #expect(try daemon.docker("volume", "create", "dc-data").stdout == "dc-data\n")
        #expect(try daemon.docker("run", "--rm", "-v", "dc-data:/data", "swiftlet-test/busybox", "sh", "-c", "echo kept > /data/f").status == 0)
        #expect(try daemon.docker("run", "--rm", "-v", "dc-data:/data", "swiftlet-test/busybox", "cat", "/data/f").stdout == "kept\n")
        #expect(try daemon.docker("volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "dc-data").stdout == "dc-data local\n")
        #expect(try daemon.docker("run", "-d", "--name", "dc-running", "-v", "dc-data:/data", "swiftlet-test/busybox", "sleep", "60").status == 0)
        let inUse = try daemon.docker("volume", "rm", "dc-data")
        #expect(inUse.status == 1 && inUse.stderr.contains("volume is in use"), "\(inUse.stderr)")
        #expect(try daemon.docker("rm", "-f", "dc-running").status == 0)
        let anonymous = try daemon.docker("volume", "create").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(anonymous.count == 64)
        let pruned = try daemon.docker("volume", "prune", "-f")
        #expect(pruned.stdout.contains(anonymous) && !pruned.stdout.contains("dc-data"), "\(pruned.stdout)")
        #expect(try daemon.docker("volume", "prune", "-af").stdout.contains("dc-data"))
        #expect(try daemon.docker("volume", "ls", "-q").stdout == "")
        let bad = try daemon.docker("volume", "create", "bad name")
        #expect(bad.status == 1 && bad.stderr.contains("includes invalid characters"))
    }

    /// `docker pull` from a local registry (Debian's docker-registry on 127.0.0.1: plain
    /// HTTP, as dockerd treats loopback registries), `tag`, `image inspect` and `rmi`,
    /// refused while a container uses the image.
    @Test func pullTagInspectAndRemoveThroughTheDaemon() throws {
        guard dockerClient() else { return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            print("pullTagInspectAndRemoveThroughTheDaemon: skipped, docker-registry is not installed (scripts/setup installs it)")
            return
        }
        let daemon = try Daemon()
        let port = Int.random(in: 20000...40000)
        let registryRoot = "\(daemon.root)/registry"
        try FileManager.default.createDirectory(atPath: registryRoot, withIntermediateDirectories: true)
        try "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: \(registryRoot)/data\nhttp:\n  addr: 127.0.0.1:\(port)\n"
            .write(toFile: "\(registryRoot)/config.yml", atomically: true, encoding: .utf8)
        let registry = try ChildProcess(["/usr/bin/docker-registry", "serve", "\(registryRoot)/config.yml"])
        defer { _ = registry.waitKilling(after: 0) }
        let remote = "127.0.0.1:\(port)/dc/busybox:1"
        #expect(try daemon.cli("image", "tag", "swiftlet-test/busybox", remote).status == 0)
        // The registry is up once a push gets through (the CLI retries refused connections).
        let push = try daemon.cli("image", "push", "--insecure", "--retries", "10", remote)
        #expect(push.status == 0, "\(push.stderr)")
        #expect(try daemon.docker("rmi", remote).stdout == "Untagged: \(remote)\n")

        // run of a missing image pulls it first (the client asks after the create's 404).
        let run = try daemon.docker("run", "--rm", remote, "echo", "pulled")
        #expect(run.status == 0 && run.stdout == "pulled\n" && run.stderr.contains("Unable to find image"), "\(run.stdout) \(run.stderr)")
        #expect(try daemon.docker("rmi", remote).status == 0)
        // So does swiftlet run, without the daemon.
        let cliRun = try daemon.cli("run", "--rm", "--isolation", "namespace", remote, "echo", "cli-pulled")
        #expect(cliRun.status == 0 && cliRun.stdout == "cli-pulled\n" && cliRun.stderr.contains("Unable to find image"),
                "\(cliRun.stdout) \(cliRun.stderr)")
        #expect(try daemon.docker("rmi", remote).status == 0)
        let pull = try daemon.docker("pull", remote)
        #expect(pull.status == 0 && pull.stdout.contains("Status: Downloaded newer image for \(remote)"), "\(pull.stdout) \(pull.stderr)")
        // dockerd's per-layer progress, which the client prints a line of per layer and step
        // (the layer is in the store already: busybox shares it).
        #expect(pull.stdout.contains(": Already exists\n"), "\(pull.stdout)")
        #expect(try daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.contains("\(remote)\n"))
        #expect(try daemon.docker("tag", remote, "dc/mine:x").status == 0)
        let inspect = try daemon.docker("image", "inspect", "-f", "{{.Os}} {{len .RepoTags}} {{len .RootFS.Layers}}", "dc/mine:x")
        #expect(inspect.stdout == "linux 3 1\n", "\(inspect.stdout) \(inspect.stderr)")
        #expect(try daemon.docker("run", "-d", "--name", "dc-running", "dc/mine:x", "sleep", "60").status == 0)
        #expect(try daemon.docker("rmi", "dc/mine:x").status == 0, "untagging one of several names is allowed")
        let inUse = try daemon.docker("rmi", "-f=false", "swiftlet-test/busybox", remote)
        #expect(inUse.status == 1 && inUse.stderr.contains("is using its referenced image"), "\(inUse.stderr)")
        let missing = try daemon.docker("pull", "127.0.0.1:\(port)/dc/nothing:1")
        #expect(missing.status == 1 && missing.stderr.contains("manifest unknown"), "\(missing.stderr)")
    }

    /// `docker exec` through the daemon: output on both streams over the hijacked start,
    /// the exit status from the instance's inspect, 127 for a missing command, `-d`, and
    /// `-t` (a terminal: its output's line ends are the terminal's).
    @Test func execThroughTheDaemon() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        #expect(try daemon.docker("run", "-d", "--name", "dc-running", "swiftlet-test/busybox", "sleep", "60").status == 0)
        let four = try daemon.docker("exec", "dc-running", "sh", "-c", "echo in-exec; echo to-err >&2; exit 4")
        #expect(four.status == 4 && four.stdout == "in-exec\n" && four.stderr == "to-err\n", "\(four.stdout) \(four.stderr)")
        #expect(try daemon.docker("exec", "dc-running", "nosuchcommand").status == 127)
        #expect(try daemon.docker("exec", "-d", "dc-running", "sh", "-c", "echo detached > /tmp/mark").status == 0)
        let mark = try ChildProcess([DockerClientTests.swiftlet, "exec", "--root", daemon.root, "dc-running", "sh", "-c",
                                     "while [ ! -f /tmp/mark ]; do sleep 0.05; done; cat /tmp/mark"])
        #expect(mark.waitForOutput("detached\n", timeout: 60))
        _ = mark.waitKilling(after: 10)
        let tty = try daemon.docker("exec", "-t", "dc-running", "sh", "-c", "test -t 1 && echo on-a-tty")
        #expect(tty.status == 0 && tty.stdout == "on-a-tty\r\n", "\(tty.stdout) \(tty.stderr)")
        #expect(try daemon.docker("rm", "-f", "dc-running").status == 0)
        #expect(try daemon.docker("exec", "dc-running", "true").stderr.contains("No such container"))
    }

    /// docker-py (scripts/setup installs it) runs containers, reads logs, execs, manages
    /// volumes and lists images through the daemon (scripts/daemon-checks/docker_py.py).
    @Test func dockerPySDKWorksAgainstTheDaemon() throws {
        guard (try? ChildProcess.run(["python3", "-c", "import docker"]).status) == 0 else {
            print("dockerPySDKWorksAgainstTheDaemon: skipped, the docker Python package is not installed (scripts/setup installs it)")
            return
        }
        let daemon = try Daemon()
        let script = DockerClientTests.repository.appendingPathComponent("scripts/daemon-checks/docker_py.py").path
        let result = try ChildProcess.run(["python3", script, "unix://\(daemon.socket)", "swiftlet-test/busybox"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// Live restore: a container started through the daemon keeps running and logging
    /// across `kill -9` of the daemon; the next daemon follows its log, stops it and
    /// reports its exit (the container's monitor never depended on the daemon).
    @Test func containersOutliveAKilledDaemon() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        #expect(try daemon.docker("run", "-d", "--name", "dc-running", "swiftlet-test/busybox", "sh", "-c",
                                  "trap 'exit 5' TERM; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done").status == 0)
        try daemon.killAndRestart()
        #expect(try daemon.docker("ps", "--format", "{{.Names}} {{.State}}").stdout == "dc-running running\n")
        let follow = try ChildProcess(["docker", "-H", "unix://\(daemon.socket)", "logs", "-f", "--tail", "1", "dc-running"])
        #expect(follow.waitForOutput("\n", timeout: 60))
        let first = try #require(Int(follow.output(1).split(separator: "\n")[0].dropFirst("tick-".count)))
        #expect(follow.waitForOutput("tick-\(first + 2)\n", timeout: 60), "new output arrives after the restart")
        #expect(try daemon.docker("stop", "dc-running").status == 0)
        #expect(follow.wait(timeout: 60) == 0, "logs -f ends with the container")
        #expect(try daemon.docker("wait", "dc-running").stdout == "5\n")
    }

    /// Load: five rounds of 50 concurrent `docker run -d` and a `docker rm -f` of them
    /// all, without an error; nothing is left (containers, their state directories, their
    /// monitors) and the daemon's resident memory, descriptors and threads stay flat.
    @Test func fiftyConcurrentRunsAndRemovalsLeaveNothingBehind() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        func footprint() -> (rss: Int, fds: Int, threads: Int) {
            let status = (try? String(contentsOfFile: "/proc/\(daemon.process.pid)/status", encoding: .utf8)) ?? ""
            let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
                .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.process.pid)/fd").count) ?? 0
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.process.pid)/task").count) ?? 0
            return (rss, fds, threads)
        }
        var after: [(rss: Int, fds: Int, threads: Int)] = []
        for round in 1...5 {
            let runs = try (1...50).map { index in
                try ChildProcess(["docker", "-H", "unix://\(daemon.socket)", "run", "-d", "--name", "dc-load-\(index)",
                                  "swiftlet-test/busybox", "sleep", "120"])
            }
            for run in runs { #expect(run.wait(timeout: 120) == 0, "round \(round): \(run.output(2))") }
            let names = (1...50).map { "dc-load-\($0)" }
            let removal = try ChildProcess.run(["docker", "-H", "unix://\(daemon.socket)", "rm", "-f"] + names, timeout: 300)
            #expect(removal.status == 0, "round \(round): \(removal.stderr)")
            #expect(try daemon.docker("ps", "-aq").stdout == "", "round \(round)")
            after.append(footprint())
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(daemon.root)/containers").filter { !$0.hasPrefix(".") && $0.count == 64 }.isEmpty)
        let monitors = try ChildProcess.run(["pgrep", "-f", "swiftlet-shim --root \(daemon.root)"])
        #expect(monitors.stdout.isEmpty, "monitors left: \(monitors.stdout)")
        print("fiftyConcurrentRunsAndRemovalsLeaveNothingBehind: daemon RSS KiB per round \(after.map(\.rss)), fds \(after.map(\.fds)), threads \(after.map(\.threads))")
        #expect(after[4].rss <= after[0].rss + 8 * 1024, "RSS grew from \(after[0].rss) to \(after[4].rss) KiB")
        #expect(after[4].fds <= after[0].fds + 2 && after[4].threads <= after[0].threads + 2, "fds \(after.map(\.fds)), threads \(after.map(\.threads))")
    }

    /// `docker events` streams what happens, whoever does it (the daemon or the CLI), and
    /// replays a time range with filters.
    @Test func eventsFollowTheDaemonAndTheCLI() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let started = Int(Date().timeIntervalSince1970) - 1
        let follow = try ChildProcess(["docker", "-H", "unix://\(daemon.socket)", "events", "--format",
                                       "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}"])
        defer { _ = follow.waitKilling(after: 0) }
        #expect(try daemon.docker("run", "--rm", "--name", "dc-ev-daemon", "swiftlet-test/busybox", "true").status == 0)
        #expect(try daemon.cli("run", "--rm", "--isolation", "namespace", "--name", "dc-ev-cli", "swiftlet-test/busybox", "true").status == 0)
        #expect(follow.waitForOutput("container destroy dc-ev-cli\n", timeout: 60), "\(follow.output(1))")
        let lines = follow.output(1).split(separator: "\n").map(String.init)
        for name in ["dc-ev-daemon", "dc-ev-cli"] {
            #expect(lines.filter { $0.hasSuffix(" \(name)") } == ["create", "start", "die", "destroy"].map { "container \($0) \(name)" })
        }
        let replay = try daemon.docker("events", "--since", "\(started)", "--until", "\(Int(Date().timeIntervalSince1970) + 1)",
                                       "--filter", "container=dc-ev-cli", "--filter", "event=die",
                                       "--format", "{{.Action}} {{.Actor.Attributes.exitCode}}")
        #expect(replay.stdout == "die 0\n", "\(replay.stdout) \(replay.stderr)")
    }

    /// `docker save` writes a tar that `docker load` (and `swiftlet image load`) reads back.
    @Test func saveAndLoadThroughTheDaemon() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let archive = "\(daemon.root)/busybox.tar"
        #expect(try daemon.docker("save", "-o", archive, "swiftlet-test/busybox").status == 0)
        #expect(try daemon.docker("rmi", "swiftlet-test/busybox").status == 0)
        #expect(try daemon.docker("images", "-q").stdout == "")
        let load = try daemon.docker("load", "-i", archive)
        #expect(load.status == 0 && load.stdout == "Loaded image: swiftlet-test/busybox:latest\n", "\(load.stdout) \(load.stderr)")
        #expect(try daemon.docker("run", "--rm", "swiftlet-test/busybox", "echo", "loaded").stdout == "loaded\n")
        #expect(try daemon.docker("save", "-o", "\(daemon.root)/none.tar", "nosuch:1").status == 1)
    }

    /// `docker system df` counts what the root holds; `container prune` removes the
    /// stopped containers and keeps the running one.
    @Test func systemDiskUsageAndContainerPrune() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        #expect(try daemon.docker("run", "--name", "dc-exited", "swiftlet-test/busybox", "true").status == 0)
        #expect(try daemon.docker("run", "-d", "--name", "dc-running", "swiftlet-test/busybox", "sleep", "60").status == 0)
        let usage = try daemon.docker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}")
        #expect(usage.stdout.contains("Images 1 1\n") && usage.stdout.contains("Containers 2 1\n"), "\(usage.stdout) \(usage.stderr)")
        let prune = try daemon.docker("container", "prune", "-f")
        #expect(prune.status == 0 && prune.stdout.contains("Deleted Containers:"), "\(prune.stdout)")
        #expect(try daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout == "dc-running\n")
        #expect(try daemon.docker("image", "prune", "-f").status == 0)
    }

    @Test func unsupportedEndpointsAreAClearError() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let plugins = try daemon.docker("plugin", "ls")
        #expect(plugins.status != 0)
        #expect(plugins.stderr.contains("page not found"), "\(plugins.stderr)")
    }
}
