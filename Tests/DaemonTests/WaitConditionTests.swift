import ChildProcess
import Foundation
import HostSystem
import Testing

/// `POST /containers/{id}/wait` with dockerd's conditions (the docker CLI's `run` waits
/// with `next-exit`, `run --rm` with `removed`; `docker wait` without one): `not-running`
/// answers at once for a container that does not run, `next-exit` waits through a start,
/// `removed` until the container is gone.
@Suite(.serialized) struct WaitConditionTests {
    /// `POST /containers/NAME/wait?condition=…` over the daemon's socket: the HTTP status
    /// and the body.
    func wait(_ daemon: DockerClientTests.Daemon, _ name: String, condition: String) throws -> ChildProcess {
        try ChildProcess(["curl", "-sS", "--unix-socket", daemon.socket, "-X", "POST", "-w", "\n%{http_code}",
                          "http://localhost/v1.44/containers/\(name)/wait?condition=\(condition)"])
    }

    @Test func conditions() throws {
        guard ChildProcess.locate("docker") != nil, ChildProcess.locate("curl") != nil else {
            print("WaitConditionTests: skipped, the docker client or curl is not installed")
            return
        }
        let daemon = try DockerClientTests.Daemon()
        defer { _ = try? daemon.docker("rm", "-f", "wc-created", "wc-removed") }
        #expect(try daemon.docker("create", "--name", "wc-created", "swiftlet-test/busybox", "sh", "-c", "exit 4").status == 0)
        let notRunning = try wait(daemon, "wc-created", condition: "not-running")
        #expect(notRunning.wait(timeout: 30) == 0)
        #expect(notRunning.output(1).contains("\"StatusCode\":0") && notRunning.output(1).hasSuffix("\n200"))

        let nextExit = try wait(daemon, "wc-created", condition: "next-exit")
        #expect(nextExit.wait(timeout: 1) == nil, "next-exit waits through the start")
        #expect(try daemon.docker("start", "wc-created").status == 0)
        #expect(nextExit.wait(timeout: 60) == 0)
        #expect(nextExit.output(1).contains("\"StatusCode\":4") && nextExit.output(1).hasSuffix("\n200"))

        #expect(try daemon.docker("run", "-d", "--rm", "--name", "wc-removed", "swiftlet-test/busybox", "sh", "-c",
                                  "trap 'exit 2' TERM; sleep 100 & wait").status == 0)
        let removed = try wait(daemon, "wc-removed", condition: "removed")
        #expect(try daemon.docker("kill", "-s", "TERM", "wc-removed").status == 0)
        #expect(removed.wait(timeout: 60) == 0)
        #expect(removed.output(1).contains("\"StatusCode\":2") && removed.output(1).hasSuffix("\n200"), "\(removed.output(1))")
        #expect(try daemon.docker("inspect", "wc-removed").status == 1, "gone once removed answered")

        // Waiting for the removal of a created --rm container gives the code of its run
        // (docker run --rm does this before the start).
        #expect(try daemon.docker("create", "--rm", "--name", "wc-removed", "swiftlet-test/busybox", "sh", "-c", "exit 6").status == 0)
        let removal = try wait(daemon, "wc-removed", condition: "removed")
        #expect(try daemon.docker("start", "wc-removed").status == 0)
        #expect(removal.wait(timeout: 60) == 0)
        #expect(removal.output(1).contains("\"StatusCode\":6") && removal.output(1).hasSuffix("\n200"), "\(removal.output(1))")

        let invalid = try wait(daemon, "wc-created", condition: "sometime")
        #expect(invalid.wait(timeout: 30) == 0)
        #expect(invalid.output(1).hasSuffix("400") && invalid.output(1).contains("invalid condition"), "\(invalid.output(1))")
    }
}
