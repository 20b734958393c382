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
