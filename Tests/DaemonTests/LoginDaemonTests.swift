import ChildProcess
import Foundation
import HostSystem
import Testing

/// `docker login` through swiftletd (`POST /auth` checks the credentials against the
/// registry; the client keeps them) and `swiftlet login` (checks and keeps them in the same
/// config.json), against Debian's docker-registry with htpasswd authentication; pulls with
/// the kept login work, without it they are refused.
@Suite(.serialized) struct LoginDaemonTests {
    @Test func loginThroughTheDaemonAndTheCLI() throws {
        guard ChildProcess.locate("docker") != nil, FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            print("LoginDaemonTests: skipped, the docker client or docker-registry is not installed")
            return
        }
        let daemon = try DockerClientTests.Daemon()
        let port = Int.random(in: 20000...40000)
        let directory = "\(daemon.root)/registry"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let hash = try ChildProcess.run(["python3", "-W", "ignore", "-c",
                                         "import crypt; print(crypt.crypt('s3cret', crypt.mksalt(crypt.METHOD_BLOWFISH)))"])
        try #require(hash.status == 0, "\(hash.stderr)")
        try "alice:\(hash.stdout)".write(toFile: "\(directory)/htpasswd", atomically: true, encoding: .utf8)
        try """
            version: 0.1
            log:
              level: error
            storage:
              filesystem:
                rootdirectory: \(directory)/data
            auth:
              htpasswd:
                realm: test
                path: \(directory)/htpasswd
            http:
              addr: 127.0.0.1:\(port)
            """.write(toFile: "\(directory)/config.yml", atomically: true, encoding: .utf8)
        let registry = try ChildProcess(["/usr/bin/docker-registry", "serve", "\(directory)/config.yml"])
        defer { _ = registry.waitKilling(after: 0) }
        let server = "127.0.0.1:\(port)"
        let environment = ProcessInfo.processInfo.environment.merging(["DOCKER_CONFIG": "\(daemon.root)/docker-config",
                                                                       "SWIFTLET_ROOT": daemon.root]) { $1 }
        func docker(_ arguments: [String], stdin: String? = nil) throws -> ChildProcess.Result {
            try ChildProcess.run(["docker", "-H", "unix://\(daemon.socket)"] + arguments, environment: environment,
                                 stdin: stdin.map { .bytes(Array($0.utf8)) } ?? .null, timeout: 60)
        }
        func cli(_ arguments: [String], stdin: String? = nil) throws -> ChildProcess.Result {
            try ChildProcess.run([DockerClientTests.swiftlet] + arguments, environment: environment,
                                 stdin: stdin.map { .bytes(Array($0.utf8)) } ?? .null, timeout: 120)
        }

        // swiftlet login checks the password (the registry is up once one is refused) and
        // keeps it; push then needs nothing more.
        var refused = try cli(["login", "-u", "alice", "--password-stdin", server], stdin: "guess\n")
        for _ in 0..<50 where refused.stderr.contains("failed") {
            refused = try cli(["login", "-u", "alice", "--password-stdin", server], stdin: "guess\n")
        }
        #expect(refused.status == 1 && refused.stderr.contains("incorrect username or password"), "\(refused.stderr)")
        let login = try cli(["login", "-u", "alice", "--password-stdin", server], stdin: "s3cret\n")
        #expect(login.status == 0 && login.stdout == "Login Succeeded\n", "\(login.stdout) \(login.stderr)")
        let remote = "\(server)/private/busybox:1"
        #expect(try cli(["image", "tag", "swiftlet-test/busybox", remote]).status == 0)
        let push = try cli(["push", remote])
        #expect(push.status == 0, "\(push.stderr)")
        #expect(try cli(["logout", server]).stdout == "Removing login credentials for \(server)\n")
        #expect(try cli(["rmi", remote]).status == 0)
        #expect(try cli(["pull", remote]).status != 0, "refused once logged out")

        // docker login through the daemon: the daemon checks, the client keeps the login and
        // sends it with the pull.
        let wrong = try docker(["login", "-u", "alice", "--password-stdin", server], stdin: "guess\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("incorrect username or password"), "\(wrong.stderr)")
        let right = try docker(["login", "-u", "alice", "--password-stdin", server], stdin: "s3cret\n")
        #expect(right.status == 0 && right.stdout.contains("Login Succeeded"), "\(right.stdout) \(right.stderr)")
        let pull = try docker(["pull", remote])
        #expect(pull.status == 0 && pull.stdout.contains("Status: Downloaded newer image for \(remote)"), "\(pull.stdout) \(pull.stderr)")
    }
}
