import ChildProcess
import Foundation
import HostSystem
import Testing

/// The stock docker client against `swiftletd` with microVM containers: the exit status,
/// output, `-d` with `exec`, `logs`, `stop` and `rm`, stdin (`-i`), a terminal (`-it`) and a
/// restart policy. Nested boots need a Linux-capable KVM: this suite runs in the rig's
/// run of the microVM cases (RuntimeInMicroVMTests adds it to its filter and sets
/// `SWIFTLET_TEST_ISOLATIONS=microvm`); elsewhere it says so and does nothing.
@Suite(.serialized) struct MicroVMDaemonTests {
    @Test func microVMContainersThroughTheDaemonNeedsKVM() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["SWIFTLET_TEST_ISOLATIONS"]?.split(separator: ",").contains("microvm") == true,
              environment["SWIFTLET_TEST_ROOT"] != nil else {
            print("microVMContainersThroughTheDaemonNeedsKVM: runs inside the rig's microVM run (RuntimeInMicroVMTests)")
            return
        }
        let daemon = try DockerClientTests.Daemon(isolation: "microvm")
        let echo = try daemon.docker("run", "--rm", "swiftlet-test/busybox", "sh", "-c", "echo in-a-vm; exit 3")
        #expect(echo.status == 3, "\(echo.stderr)")
        #expect(echo.stdout == "in-a-vm\n")

        #expect(try daemon.docker("run", "-d", "--name", "vm-daemon", "swiftlet-test/busybox", "sh", "-c",
                                  "trap 'exit 5' TERM; echo started; while true; do sleep 0.2; done").status == 0)
        defer { _ = try? daemon.docker("rm", "-f", "vm-daemon") }
        #expect(try daemon.docker("inspect", "--format", "{{.HostConfig.Isolation}}", "vm-daemon").stdout == "microvm\n")
        let exec = try daemon.docker("exec", "vm-daemon", "cat", "/proc/1/cmdline")
        #expect(exec.status == 0 && exec.stdout.hasPrefix("sh"), "\(exec.stdout) \(exec.stderr)")
        let input = try ChildProcess.run(["docker", "-H", "unix://\(daemon.socket)", "exec", "-i", "vm-daemon", "cat"],
                                         stdin: .bytes(Array("through the vsock\n".utf8)), timeout: 120)
        #expect(input.stdout == "through the vsock\n", "\(input.stderr)")
        #expect(try daemon.docker("logs", "vm-daemon").stdout == "started\n")
        #expect(try daemon.docker("stop", "vm-daemon").status == 0)
        #expect(try daemon.docker("wait", "vm-daemon").stdout == "5\n")

        let session = try InteractiveDaemonTests.TerminalSession(daemon, "run -it --rm swiftlet-test/busybox sh", rows: 25, columns: 90)
        try #require(session.shows("# "), "a prompt: \(session.process.output(1))")
        try session.type("stty size; exit 6\r")
        #expect(session.shows("25 90"))
        #expect(session.process.wait(timeout: 120) == 6)

        let restarting = try daemon.docker("run", "-d", "--name", "vm-restart", "--restart", "on-failure:1", "swiftlet-test/busybox",
                                           "sh", "-c", "exit 1")
        #expect(restarting.status == 0, "\(restarting.stderr)")
        defer { _ = try? daemon.docker("rm", "-f", "vm-restart") }
        let id = try daemon.docker("inspect", "--format", "{{.Id}}", "vm-restart").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let changes = try FileChangeWatch("\(daemon.root)/containers/\(id)")
        let deadline = Date().addingTimeInterval(180)
        var ended = ""
        while deadline.timeIntervalSinceNow > 0 {
            ended = try daemon.docker("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", "vm-restart").stdout
            if ended == "exited 1\n" { break }
            changes.wait(timeout: deadline.timeIntervalSinceNow)
        }
        #expect(ended == "exited 1\n")
    }
}
