import ChildProcess
import Foundation
import HostSystem
import Testing

/// Input through `swiftletd` with the stock docker client: `run -i` (StdinOnce: the
/// container's stdin ends with the client's), `exec -i`, and real terminals — `run -it` and
/// `exec -it` under `script`, which gives the client a pseudo-terminal of its own: typing,
/// Ctrl-C reaching the container's foreground process, the window size, the exit status.
@Suite(.serialized) struct InteractiveDaemonTests {
    /// A docker command on a terminal of its own (`script`), with the given window size;
    /// the test types into it once the output it waits for has appeared.
    final class TerminalSession {
        let process: ChildProcess
        private let keyboard: Int32

        init(_ daemon: DockerClientTests.Daemon, _ command: String, rows: Int, columns: Int) throws {
            var pipe: [Int32] = [-1, -1]
            try #require(Glibc.pipe(&pipe) == 0)
            keyboard = pipe[1]
            let line = "stty rows \(rows) cols \(columns); docker -H unix://\(daemon.socket) \(command)"
            process = try ChildProcess(["script", "-qfec", line, "/dev/null"], stdin: .descriptor(pipe[0]))
            close(pipe[0])
        }

        deinit {
            close(keyboard)
            _ = process.waitKilling(after: 10)
        }

        func type(_ text: String) throws {
            try Descriptors.writeAll(keyboard, Array(text.utf8))
        }

        func shows(_ text: String) -> Bool {
            process.waitForOutput(text, timeout: 60)
        }
    }

    func dockerClient() -> Bool {
        guard ChildProcess.locate("docker") != nil, ChildProcess.locate("script") != nil else {
            print("InteractiveDaemonTests: skipped, the docker client or script(1) is not installed")
            return false
        }
        return true
    }

    @Test func stdinReachesContainersAndExecs() throws {
        guard dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let socket = "unix://\(daemon.socket)"
        let run = try ChildProcess.run(["docker", "-H", socket, "run", "-i", "--rm", "swiftlet-test/busybox", "sh", "-c",
                                        "cat; echo end-of-input"], stdin: .bytes(Array("hello\n".utf8)), timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "hello\nend-of-input\n")
        #expect(try daemon.docker("run", "-d", "-i", "--name", "it-catter", "swiftlet-test/busybox", "cat").status == 0)
        defer { _ = try? daemon.docker("rm", "-f", "it-catter") }
        let exec = try ChildProcess.run(["docker", "-H", socket, "exec", "-i", "it-catter", "sh", "-c", "cat; echo done"],
                                        stdin: .bytes(Array("to the exec\n".utf8)), timeout: 60)
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.stdout == "to the exec\ndone\n")
    }

    @Test func terminalsForRunAndExec() throws {
        guard dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let session = try TerminalSession(daemon, "run -it --name it-shell swiftlet-test/busybox sh", rows: 33, columns: 101)
        defer { _ = try? daemon.docker("rm", "-f", "it-shell") }
        try #require(session.shows("# "), "a prompt: \(session.process.output(1))")
        try session.type("echo $((6*7))\r")
        #expect(session.shows("42"))
        try session.type("stty size\r")
        #expect(session.shows("33 101"), "the client's window size: \(session.process.output(1))")
        // Ctrl-C goes to the container's foreground process, not to the client.
        // (The shell drops the rest of an interrupted line: the status is asked for after.)
        try session.type("sh -c 'echo sleep''ing; sleep 100'\r")
        try #require(session.shows("sleeping\r\n"))
        try session.type("\u{3}")
        try session.type("echo back-$?\r")
        #expect(session.shows("back-130"))

        // exec -it into the running shell container, with a window size of its own.
        let exec = try TerminalSession(daemon, "exec -it it-shell sh", rows: 44, columns: 120)
        try #require(exec.shows("# "), "a prompt: \(exec.process.output(1))")
        try exec.type("stty size\r")
        #expect(exec.shows("44 120"), "\(exec.process.output(1))")
        try exec.type("exit 4\r")
        #expect(exec.process.wait(timeout: 60) == 4)

        try session.type("exit 3\r")
        #expect(session.process.wait(timeout: 60) == 3, "\(session.process.output(1))")
    }
}
