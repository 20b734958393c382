import ChildProcess
import Foundation
import Testing

/// The stock `docker` client's `pause`, `unpause`, `rename`, `top`, `stats --no-stream`,
/// `update` and `restart` against swiftletd (a namespace-default test daemon, as
/// DockerClientTests'), with dockerd's texts for the refused cases.
@Suite(.serialized) struct DockerContainerControlTests {
    @Test func controlCommandsThroughTheDaemon() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let run = try daemon.docker("run", "-d", "--name", "dc-exited", "--memory", "64m", "swiftlet-test/busybox",
                                    "sh", "-c", "echo started; sleep 600 & sleep 601 & wait")
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // rename: the id stays, a taken name is a conflict.
        #expect(try daemon.docker("rename", "dc-exited", "dc-running").status == 0)
        #expect(try daemon.docker("inspect", "--format", "{{.Id}} {{.Name}}", "dc-running").stdout == "\(id) /dc-running\n")
        #expect(try daemon.docker("create", "--name", "dc-exited", "swiftlet-test/busybox", "true").status == 0)
        let taken = try daemon.docker("rename", "dc-running", "dc-exited")
        #expect(taken.status == 1 && taken.stderr.contains("Conflict. The container name \"/dc-exited\" is already in use"), "\(taken.stderr)")

        // pause: ps and inspect say so, exec is refused, a stopped container cannot be paused.
        #expect(try daemon.docker("pause", "dc-running").stdout == "dc-running\n")
        #expect(try daemon.docker("ps", "--format", "{{.Names}} {{.State}} {{.Status}}").stdout.hasPrefix("dc-running paused Up "))
        #expect(try daemon.docker("inspect", "--format", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "dc-running").stdout
                == "paused true true\n")
        let exec = try daemon.docker("exec", "dc-running", "true")
        #expect(exec.status != 0 && exec.stderr.contains("Container \(id) is paused, unpause the container before exec"), "\(exec.stderr)")
        let stopped = try daemon.docker("pause", "dc-exited")
        #expect(stopped.status == 1 && stopped.stderr.contains("is not running"), "\(stopped.stderr)")
        #expect(try daemon.docker("info", "--format", "{{.ContainersPaused}}").stdout == "1\n")
        #expect(try daemon.docker("unpause", "dc-running").stdout == "dc-running\n")
        #expect(try daemon.docker("exec", "dc-running", "true").status == 0)

        // top: the container's three processes, none of the host's.
        let top = try daemon.docker("top", "dc-running")
        let rows = top.stdout.split(separator: "\n")
        #expect(top.status == 0 && rows.first?.contains("PID") == true && rows.count == 4, "\(top.stdout) \(top.stderr)")
        #expect(rows.contains { $0.hasSuffix("sleep 600") } && rows.contains { $0.hasSuffix("sleep 601") }, "\(top.stdout)")

        // stats: docker's table from the container's cgroup.
        let stats = try daemon.docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "dc-running")
        let fields = stats.stdout.split(separator: " ").map(String.init)
        #expect(stats.status == 0 && fields.count == 5 && fields[0] == "dc-running" && fields[3] == "64MiB" && fields[4] == "3\n",
                "\(stats.stdout) \(stats.stderr)")

        // update: the limit changes live (stats shows it) and in inspect.
        let update = try daemon.docker("update", "--memory", "128m", "--pids-limit", "40", "dc-running")
        #expect(update.status == 0 && update.stdout == "dc-running\n", "\(update.stderr)")
        #expect(try daemon.docker("inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}", "dc-running").stdout
                == "134217728 40\n")
        #expect(try daemon.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", "dc-running").stdout.hasSuffix("/ 128MiB\n"))
        #expect(try daemon.docker("update", "--restart", "on-failure:3", "dc-running").status == 0)
        #expect(try daemon.docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                                  "dc-running").stdout == "on-failure:3\n")
        #expect(try daemon.docker("update", "--restart", "no", "dc-running").status == 0)

        // restart: stopped (the shell ignores SIGTERM as PID 1: killed after -t) and started again.
        let before = try daemon.docker("inspect", "--format", "{{.State.StartedAt}}", "dc-running").stdout
        #expect(try daemon.docker("restart", "-t", "1", "dc-running").stdout == "dc-running\n")
        #expect(try daemon.docker("inspect", "--format", "{{.State.Running}}", "dc-running").stdout == "true\n")
        #expect(try daemon.docker("inspect", "--format", "{{.State.StartedAt}}", "dc-running").stdout != before)
        let events = try daemon.docker("events", "--since", "0", "--until", "\(Int(Date().timeIntervalSince1970) + 1)",
                                       "--filter", "container=\(id)", "--format", "{{.Action}}")
        let actions = events.stdout.split(separator: "\n").map(String.init)
        for action in ["rename", "pause", "unpause", "top", "update", "restart"] {
            #expect(actions.contains(action), "\(action) missing from \(actions)")
        }
        #expect(try daemon.docker("rm", "-f", "dc-running").status == 0)
    }
}
