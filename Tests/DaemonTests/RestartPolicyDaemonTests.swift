import ChildProcess
import CLinux
import Foundation
import HostSystem
import Testing

/// Restart policies through `swiftletd` with the stock docker client: `on-failure:2` ends
/// with RestartCount 2, and after `kill -9` of the daemon plus a simulated reboot (every
/// monitor and container process of the state root killed) the next daemon brings back
/// the `always` containers (a stopped one too, as dockerd) and the `unless-stopped` one the
/// user had not stopped.
@Suite(.serialized) struct RestartPolicyDaemonTests {
    /// Waits, on changes to the container's state directory, until `docker inspect
    /// --format FORMAT` prints `expected`; what it printed last.
    func waitForInspect(_ daemon: DockerClientTests.Daemon, _ name: String, format: String, expected: String) throws -> String {
        let id = try daemon.docker("inspect", "--format", "{{.Id}}", name).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let changes = try FileChangeWatch("\(daemon.root)/containers/\(id)")
        let deadline = Date().addingTimeInterval(120)
        while true {
            let printed = try daemon.docker("inspect", "--format", format, name).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if printed == expected || deadline.timeIntervalSinceNow <= 0 { return printed }
            changes.wait(timeout: deadline.timeIntervalSinceNow)
        }
    }

    /// What a reboot does to the containers of `root`: their monitors and processes are
    /// gone (SIGKILL, reaped by whoever is their parent).
    static func killEverythingOf(root: String) {
        let containers = "\(root)/containers"
        var victims: [pid_t] = []
        for id in (try? FileManager.default.contentsOfDirectory(atPath: containers)) ?? [] {
            guard let data = FileManager.default.contents(atPath: "\(containers)/\(id)/state.json"),
                  let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
            victims += [state["shimPid"], state["pid"]].compactMap { ($0 as? NSNumber).map { pid_t($0.int32Value) } }
        }
        for pid in victims { kill(pid, SIGKILL) }
        for pid in victims {
            let pidfd = sl_pidfd_open(pid)
            guard pidfd >= 0 else { continue }
            var poller = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 10_000)
            close(pidfd)
        }
    }

    @Test func restartPoliciesThroughTheDaemonAndAcrossAReboot() throws {
        guard ChildProcess.locate("docker") != nil else {
            print("RestartPolicyDaemonTests: skipped, the docker client is not installed")
            return
        }
        let daemon = try DockerClientTests.Daemon()
        let names = ["rp-fail", "rp-always", "rp-always-stopped", "rp-unless", "rp-unless-stopped"]
        defer { for name in names { _ = try? daemon.docker("rm", "-f", name) } }
        let failing = try daemon.docker("run", "-d", "--name", "rp-fail", "--restart", "on-failure:2", "swiftlet-test/busybox",
                                        "sh", "-c", "exit 1")
        try #require(failing.status == 0, "\(failing.stderr)")
        #expect(try waitForInspect(daemon, "rp-fail", format: "{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}",
                                   expected: "exited 2 1") == "exited 2 1")
        #expect(try daemon.docker("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}",
                                  "rp-fail").stdout == "on-failure:2\n")

        for (name, policy) in [("rp-always", "always"), ("rp-always-stopped", "always"), ("rp-unless", "unless-stopped"),
                               ("rp-unless-stopped", "unless-stopped")] {
            let run = try daemon.docker("run", "-d", "--name", name, "--restart", policy, "swiftlet-test/busybox", "sleep", "1000")
            try #require(run.status == 0, "\(run.stderr)")
        }
        for name in ["rp-always-stopped", "rp-unless-stopped"] {
            #expect(try daemon.docker("stop", "-t", "1", name).status == 0)
        }
        try daemon.killAndRestart { Self.killEverythingOf(root: daemon.root) }

        let running = try daemon.docker("ps", "--format", "{{.Names}}").stdout.split(separator: "\n").map(String.init).sorted()
        #expect(running == ["rp-always", "rp-always-stopped", "rp-unless"], "running after the reboot: \(running)")
        #expect(try daemon.docker("inspect", "--format", "{{.State.Status}}", "rp-unless-stopped").stdout == "exited\n")
        #expect(try daemon.docker("inspect", "--format", "{{.State.Status}}", "rp-fail").stdout == "exited\n",
                "an on-failure container stays as it ended")
        // The restarted ones are live containers again: they stop on request and stay stopped.
        #expect(try daemon.docker("stop", "-t", "1", "rp-always").status == 0)
        #expect(try daemon.docker("inspect", "--format", "{{.State.Status}}", "rp-always").stdout == "exited\n")
    }
}
