import ChildProcess
import Foundation
import HostSystem
import Testing

/// `swiftletd -H fd://` as systemd starts it from swiftletd.socket: the listening socket
/// is descriptor 3, `LISTEN_PID` and `LISTEN_FDS` say so (set by a shell that then execs
/// the daemon, so the pid is the daemon's), and the docker client talks to it. Wrong or
/// missing variables are refused at start-up.
@Suite(.serialized) struct SocketActivationTests {
    /// `sh -c '… exec swiftletd …'` with `variables` set before the exec.
    static func wrapper(_ variables: String) -> [String] {
        ["sh", "-c", "\(variables) exec \"$0\" \"$@\""]
    }

    @Test func dockerClientTalksToASocketActivatedDaemon() throws {
        guard ChildProcess.locate("docker") != nil else {
            print("dockerClientTalksToASocketActivatedDaemon: skipped, the docker client is not installed")
            return
        }
        let directory = NSTemporaryDirectory() + "swiftletd-activation-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/activated.sock"
        let listener = try UnixSocketAddress.streamSocket()
        defer { close(listener) }
        try UnixSocketAddress(path).bind(listener)
        guard listen(listener, 16) == 0 else { throw SwiftletError.last("listen \(path)") }

        let daemon = try DockerClientTests.Daemon(listen: ["-H", "fd://"], wrapper: Self.wrapper("LISTEN_PID=$$ LISTEN_FDS=1"),
                                                  descriptors: [3: listener])
        #expect(daemon.process.output(2).contains("API listening on fd:// (descriptors 3)"), "\(daemon.process.output(2))")
        let version = try ChildProcess.run(["docker", "-H", "unix://\(path)", "version"], timeout: 60)
        #expect(version.status == 0 && version.stdout.contains("Server: Swiftlet"), "\(version.stdout) \(version.stderr)")
        let run = try ChildProcess.run(["docker", "-H", "unix://\(path)", "run", "--rm", "--isolation", "namespace",
                                        "swiftlet-test/busybox", "echo", "hi"], timeout: 120)
        #expect(run.status == 0 && run.stdout == "hi\n", "\(run.stdout) \(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: path), "the socket is systemd's: the daemon leaves it alone")
    }

    @Test func missingOrForeignActivationIsRefused() throws {
        let swiftletd = DockerClientTests.products.appendingPathComponent("swiftletd").path
        let root = ["--root", NSTemporaryDirectory() + "swiftletd-activation-refused"]
        let foreign = try ChildProcess.run(Self.wrapper("LISTEN_PID=1 LISTEN_FDS=1") + [swiftletd, "-H", "fd://"] + root, timeout: 60)
        #expect(foreign.status == 125 && foreign.stderr.contains("the sockets passed are for process 1 (LISTEN_PID), not this one"),
                "\(foreign.stderr)")
        let none = try ChildProcess.run([swiftletd, "-H", "fd://"] + root, timeout: 60)
        #expect(none.status == 125 && none.stderr.contains("-H fd://: no sockets were passed"), "\(none.stderr)")
        let outOfRange = try ChildProcess.run(Self.wrapper("LISTEN_PID=$$ LISTEN_FDS=1") + [swiftletd, "-H", "fd://5"] + root,
                                              timeout: 60)
        #expect(outOfRange.status == 125 && outOfRange.stderr.contains("-H fd://5: systemd passed descriptors 3…3 only"),
                "\(outOfRange.stderr)")
        // Descriptor 3 passed but not a socket.
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let notSocket = try ChildProcess(Self.wrapper("LISTEN_PID=$$ LISTEN_FDS=1") + [swiftletd, "-H", "fd://"] + root,
                                         descriptors: [3: null])
        #expect(notSocket.wait() == 125 && notSocket.output(2).contains("descriptor 3 (passed by LISTEN_FDS) is not a socket"),
                "\(notSocket.output(2))")
    }
}
