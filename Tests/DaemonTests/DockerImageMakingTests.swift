import ChildProcess
import Foundation
import Testing

/// The stock `docker` client's `diff`, `commit`, `history`, `export` and `import` against
/// swiftletd (a namespace-default test daemon, as DockerClientTests').
@Suite(.serialized) struct DockerImageMakingTests {
    @Test func commitDiffHistoryExportAndImportThroughTheDaemon() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let run = try daemon.docker("run", "--name", "dm-changed", "swiftlet-test/busybox", "sh", "-c",
                                    "echo a > /a && rm /bin/ls && mkdir /d && echo b > /d/b")
        #expect(run.status == 0, "\(run.stderr)")

        let diff = try daemon.docker("diff", "dm-changed")
        #expect(diff.stdout == "A /a\nC /bin\nD /bin/ls\nA /d\nA /d/b\n", "\(diff.stdout) \(diff.stderr)")

        let commit = try daemon.docker("commit", "-m", "the message", "-a", "Jane", "-c", "ENV COMMITTED=yes",
                                       "-c", "CMD [\"cat\", \"/a\"]", "dm-changed", "dm-image:1")
        #expect(commit.status == 0 && commit.stdout.hasPrefix("sha256:"), "\(commit.stderr)")
        let inspect = try daemon.docker("image", "inspect", "--format", "{{.Author}}|{{.Comment}}|{{.Config.Cmd}}|{{.Config.Env}}", "dm-image:1")
        #expect(inspect.stdout.hasPrefix("Jane|the message|[cat /a]|[") && inspect.stdout.contains("COMMITTED=yes"), "\(inspect.stdout) \(inspect.stderr)")
        #expect(try daemon.docker("run", "--rm", "dm-image:1").stdout == "a\n")
        let history = try daemon.docker("history", "--format", "{{.CreatedBy}}|{{.Comment}}", "--no-trunc", "dm-image:1")
        #expect(history.stdout.hasPrefix("sh -c echo a > /a && rm /bin/ls && mkdir /d && echo b > /d/b|the message\n"),
                "\(history.stdout) \(history.stderr)")
        #expect(history.stdout.split(separator: "\n").count == 2)

        // export | import: the same files, one layer, the message as the comment.
        let archive = NSTemporaryDirectory() + "dm-export-\(getpid()).tar"
        defer { unlink(archive) }
        #expect(try daemon.docker("export", "-o", archive, "dm-changed").status == 0)
        let imported = try daemon.docker("import", "-m", "from a tar", archive, "dm-imported:1")
        #expect(imported.status == 0 && imported.stdout.hasPrefix("sha256:"), "\(imported.stderr)")
        #expect(try daemon.docker("run", "--rm", "dm-imported:1", "sh", "-c", "cat /a /d/b; ls /bin/ls 2>&1").stdout
                == "a\nb\nls: /bin/ls: No such file or directory\n")
        #expect(try daemon.docker("history", "--format", "{{.Comment}}", "dm-imported:1").stdout == "from a tar\n")

        // Refusals: dockerd's words, exit 1, nothing made.
        let missing = try daemon.docker("commit", "no-such-container", "dm-never:1")
        #expect(missing.status == 1 && missing.stderr.contains("No such container: no-such-container"), "\(missing.stderr)")
        let badChange = try daemon.docker("commit", "-c", "RUN true", "dm-changed", "dm-never:1")
        #expect(badChange.status == 1 && badChange.stderr.contains("RUN"), "\(badChange.stderr)")
        #expect(try daemon.docker("images", "-q", "dm-never").stdout.isEmpty)
        _ = try daemon.docker("rm", "dm-changed")
        _ = try daemon.docker("rmi", "dm-image:1", "dm-imported:1")
    }
}

/// `docker build` (the CLI's legacy-builder path, POST /build) against swiftletd.
@Suite(.serialized) struct DockerBuildTests {
    @Test func dockerBuildThroughTheDaemon() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let context = NSTemporaryDirectory() + "docker-build-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: context) }
        try Data("""
            ARG BASE=swiftlet-test/busybox
            FROM $BASE AS first
            ARG WORD
            RUN echo "$WORD" > /word
            FROM swiftlet-test/busybox
            COPY --from=first /word /copied
            COPY note.txt /
            CMD ["sh", "-c", "cat /copied /note.txt"]
            """.utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        try Data("note \(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: "\(context)/note.txt"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: "\(context)/secret.key"))
        try Data("*.key\nDockerfile\n".utf8).write(to: URL(fileURLWithPath: "\(context)/.dockerignore"))

        let build = try daemon.docker("build", "--network", "none", "--build-arg", "WORD=built", "-t", "db-image:1", context)
        #expect(build.status == 0, "\(build.stdout) \(build.stderr)")
        #expect(build.stderr.contains("DEPRECATED: The legacy builder is deprecated"))
        #expect(build.stdout.contains("Step 1/7 : FROM $BASE AS first") && build.stdout.contains("Successfully tagged db-image:1"), "\(build.stdout)")
        let run = try daemon.docker("run", "--rm", "db-image:1")
        #expect(run.stdout.hasPrefix("built\nnote "), "\(run.stdout) \(run.stderr)")
        let files = try daemon.docker("run", "--rm", "db-image:1", "ls", "-a", "/")
        #expect(!files.stdout.contains("secret.key") && !files.stdout.contains("Dockerfile"))

        let again = try daemon.docker("build", "--network", "none", "--build-arg", "WORD=built", "-q", "-t", "db-image:1", context)
        #expect(again.status == 0 && again.stdout.hasPrefix("sha256:"), "\(again.stdout) \(again.stderr)")

        try Data("FROM swiftlet-test/busybox\nRUN exit 4\n".utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        try Data("".utf8).write(to: URL(fileURLWithPath: "\(context)/.dockerignore"))
        let failing = try daemon.docker("build", "--network", "none", "-t", "db-failed:1", context)
        #expect(failing.status == 4 && failing.stderr.contains("The command '/bin/sh -c exit 4' returned a non-zero code: 4"),
                "\(failing.status) \(failing.stderr)")
        #expect(try daemon.docker("images", "-q", "db-failed").stdout.isEmpty)
        _ = try daemon.docker("rmi", "db-image:1")
    }
}

/// `docker cp` (the archive endpoints) against swiftletd.
@Suite(.serialized) struct DockerCopyTests {
    @Test func dockerCopyBothWays() throws {
        guard DockerClientTests().dockerClient() else { return }
        let daemon = try DockerClientTests.Daemon()
        let host = NSTemporaryDirectory() + "docker-cp-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: host) }
        #expect(try daemon.docker("run", "-d", "--name", "dcp-running", "swiftlet-test/busybox", "sh", "-c",
                                  "mkdir -p /data/sub && echo b > /data/sub/b && touch /ready && sleep 600").status == 0)
        for _ in 0..<200 where try daemon.docker("exec", "dcp-running", "test", "-e", "/ready").status != 0 { usleep(50_000) }
        #expect(try daemon.docker("cp", "dcp-running:/data", host).status == 0)
        #expect(try String(contentsOfFile: "\(host)/data/sub/b", encoding: .utf8) == "b\n")
        try Data("in\n".utf8).write(to: URL(fileURLWithPath: "\(host)/in.txt"))
        #expect(try daemon.docker("cp", "\(host)/in.txt", "dcp-running:/data/").status == 0)
        #expect(try daemon.docker("exec", "dcp-running", "cat", "/data/in.txt").stdout == "in\n")
        let missing = try daemon.docker("cp", "dcp-running:/no/such", host)
        #expect(missing.status == 1 && missing.stderr.contains("Could not find the file /no/such"), "\(missing.stderr)")
        _ = try daemon.docker("rm", "-f", "dcp-running")
    }
}
