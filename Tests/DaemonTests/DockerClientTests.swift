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

    /// A daemon on a private socket and state root, with the busybox test image loaded.
    final class Daemon {
        let root = NSTemporaryDirectory() + "swiftletd-test-\(UUID().uuidString.prefix(8))"
        var socket: String { "\(root)/swiftletd.sock" }
        let process: ChildProcess

        init() throws {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let images = DockerClientTests.repository.appendingPathComponent("scripts/test-images")
            let build = try ChildProcess.run([images.appendingPathComponent("build").path], timeout: 3600)
            guard build.status == 0 else { throw SwiftletError("scripts/test-images/build failed: \(build.stderr)") }
            let load = try ChildProcess.run([DockerClientTests.swiftlet, "image", "load", "--root", root, "-i",
                                             images.appendingPathComponent("out/busybox").path])
            guard load.status == 0 else { throw SwiftletError("image load failed: \(load.stderr)") }
            process = try ChildProcess([DockerClientTests.products.appendingPathComponent("swiftletd").path, "--root", root,
                                        "-H", "unix://\(root)/swiftletd.sock", "--default-isolation", "namespace"])
            guard process.waitForOutput("API listening on", stream: 2, timeout: 60) else {
                throw SwiftletError("swiftletd did not start: \(process.output(2))")
            }
        }

        deinit {
            process.signal(SIGTERM)
            _ = process.waitKilling(after: 30)
            _ = try? cli("rm", "-f", "dc-exited", "dc-running")
            try? FileManager.default.removeItem(atPath: root)
        }

        func docker(_ arguments: String...) throws -> ChildProcess.Result {
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

    @Test func unsupportedEndpointsAreAClearError() throws {
        guard dockerClient() else { return }
        let daemon = try Daemon()
        let networks = try daemon.docker("network", "ls")
        #expect(networks.status != 0)
        #expect(networks.stderr.contains("page not found"), "\(networks.stderr)")
    }
}
