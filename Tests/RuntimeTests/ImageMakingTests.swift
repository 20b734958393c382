import Foundation
import Runtime
import Testing

/// `commit`, `diff`, `export`, `import` and `history` through the `swiftlet` CLI (issue
/// #14): a container that wrote, changed and deleted files gives an image whose containers
/// see exactly those changes, `diff` lists them, and `export | import` round-trips.
@Suite struct ImageMakingTests {
    /// Writes /new, appends to /etc/passwd, deletes /bin/ls, makes /tmp/d/f.
    private static let changes = "echo hi > /new && echo extra:x:1:1 >> /etc/passwd && rm /bin/ls && mkdir -p /tmp/d && echo x > /tmp/d/f"
    /// What a container of an image with those changes prints.
    private static let check = "cat /new; tail -1 /etc/passwd; cat /tmp/d/f; test -e /bin/ls && echo ls-present || echo ls-gone"

    private func makeChangedContainer(_ isolation: Isolation) throws -> String {
        let name = Swiftlet.name("changed")
        let run = try swiftlet("run", "--name", name, "--isolation", isolation.rawValue, "--network", "none", Swiftlet.busybox, "sh", "-c", Self.changes)
        #expect(run.status == 0, "\(run.stderr)")
        return name
    }

    @Test(arguments: TestIsolation.available)
    func commitKeepsWhatTheContainerWroteChangedAndDeleted(isolation: Isolation) throws {
        let name = try makeChangedContainer(isolation)
        let image = "swiftlet-test/committed-\(name)"
        defer { _ = try? swiftlet("rm", "-f", name); _ = try? swiftlet("rmi", image) }

        let diff = try swiftlet("diff", name)
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(diff.stdout == "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nA /new\nC /tmp\nA /tmp/d\nA /tmp/d/f\n")

        let commit = try swiftlet("commit", "-m", "a message", "-a", "Jane <jane@example.com>", name, image)
        #expect(commit.status == 0 && commit.stdout.hasPrefix("sha256:"), "\(commit.stderr)")
        let run = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", image, "sh", "-c", Self.check)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "hi\nextra:x:1:1\nx\nls-gone\n")

        let history = try swiftlet("history", "--no-trunc", image)
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(history.stdout)")  // the header, the commit, busybox's one layer
        #expect(lines.dropFirst().first?.hasPrefix(commit.stdout.trimmingCharacters(in: .newlines)) == true)
        #expect(lines.dropFirst().first?.contains("sh -c \(Self.changes)") == true && history.stdout.contains("a message"))
        let inspect = try swiftlet("image", "inspect", image)
        #expect(inspect.stdout.contains("\"author\" : \"Jane <jane@example.com>\""), "\(inspect.stdout)")
        // The container's command is the image's: a plain run repeats the changes.
        #expect(inspect.stdout.contains("\"Cmd\" : ["), "\(inspect.stdout)")
    }

    @Test(arguments: TestIsolation.available)
    func exportThenImportRoundTrips(isolation: Isolation) throws {
        let name = try makeChangedContainer(isolation)
        let image = "swiftlet-test/imported-\(name)"
        let archive = NSTemporaryDirectory() + "\(name).tar"
        defer { _ = try? swiftlet("rm", "-f", name); _ = try? swiftlet("rmi", image); unlink(archive) }

        let export = try swiftlet("export", "-o", archive, name)
        #expect(export.status == 0, "\(export.stderr)")
        let listing = try String(decoding: Data(contentsOf: URL(fileURLWithPath: archive)), as: UTF8.self)
        #expect(listing.contains("tmp/d/f") && listing.contains("bin/busybox"))
        let imported = try swiftlet("import", "-m", "round trip", archive, image)
        #expect(imported.status == 0 && imported.stdout.hasPrefix("sha256:"), "\(imported.stderr)")
        let run = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", image, "sh", "-c", Self.check)
        #expect(run.stdout == "hi\nextra:x:1:1\nx\nls-gone\n", "\(run.stderr)")
        let history = try swiftlet("history", image)
        #expect(history.stdout.contains("round trip") && history.stdout.split(separator: "\n").count == 2, "\(history.stdout)")
    }

    /// Docker's default `--pause`: the processes are frozen while the layer is written and
    /// thawed after; the container goes on running.
    @Test(arguments: TestIsolation.namespaces)
    func committingARunningContainerLeavesItRunning(isolation: Isolation) throws {
        let name = Swiftlet.name("running-commit")
        let image = "swiftlet-test/running-\(name)"
        defer { _ = try? swiftlet("rm", "-f", name); _ = try? swiftlet("rmi", image) }
        #expect(try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, "--network", "none", Swiftlet.busybox,
                             "sh", "-c", "echo up > /up; sleep 600").status == 0)
        for _ in 0..<200 where try swiftlet("diff", name).stdout.contains("A /up") == false { usleep(50_000) }
        let commit = try swiftlet("commit", name, image)
        #expect(commit.status == 0, "\(commit.stderr)")
        let state = try inspected(name, section: "state")
        #expect(state?["status"] as? String == "running" && state?["paused"] as? Bool != true)
        #expect(try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", "--entrypoint", "cat", image, "/up").stdout == "up\n")
    }

    @Test(arguments: TestIsolation.available.filter { $0 == .microvm })
    func aRunningMicroVMContainerIsRefusedWithAReason(isolation: Isolation) throws {
        let name = Swiftlet.name("running-vm")
        defer { _ = try? swiftlet("rm", "-f", name) }
        #expect(try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "600").status == 0)
        for command in [["commit", name], ["diff", name], ["export", "-o", "/dev/null", name]] {
            let result = try Swiftlet.execute([Swiftlet.executable] + command, root: try Swiftlet.root.get())
            #expect(result.status == 1 && result.stderr.contains("running microVM container") && result.stderr.contains("stop it first"),
                    "\(command): \(result.stderr)")
        }
    }

    /// `image prune` removes dangling images no container uses, and keeps those one does.
    /// In a root of its own: a prune in the shared root would race other suites' builds.
    @Test func pruneKeepsTheDanglingImagesContainersUse() throws {
        // Beside the shared root (in the rig its tmpfs: the 9p /tmp refuses sockets).
        let root = ((try Swiftlet.root.get()) as NSString).deletingLastPathComponent + "/swiftlet-prune-\(UUID().uuidString.prefix(8))"
        defer {
            _ = try? Swiftlet.execute([Swiftlet.executable, "rm", "-f", "changed", "user"], root: root)
            try? FileManager.default.removeItem(atPath: root)
        }
        func run(_ arguments: String...) throws -> CommandResult {
            try Swiftlet.execute([Swiftlet.executable] + arguments, root: root)
        }
        let layout = Swiftlet.repository.appendingPathComponent("scripts/test-images/out/busybox").path
        #expect(try run("image", "load", "-i", layout).status == 0)
        #expect(try run("run", "--name", "changed", "--isolation", "namespace", "--network", "none", Swiftlet.busybox,
                        "sh", "-c", Self.changes).status == 0)
        let used = try run("commit", "changed").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let unused = try run("commit", "-m", "second", "changed").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(used.hasPrefix("sha256:") && unused.hasPrefix("sha256:") && used != unused)
        #expect(try run("create", "--name", "user", "--isolation", "namespace", "--network", "none", used, "true").status == 0)
        let dangling = try run("images", "-q", "--filter", "dangling=true").stdout
        #expect(dangling.contains(used.dropFirst(7).prefix(12)) && dangling.contains(unused.dropFirst(7).prefix(12)), "\(dangling)")
        let prune = try run("image", "prune")
        #expect(prune.status == 0 && prune.stdout.contains("deleted: \(unused)") && !prune.stdout.contains(used), "\(prune.stdout)")
        #expect(try run("start", "-a", "user").status == 0)
        #expect(try run("images", "-q", "--filter", "dangling=true").stdout.contains(used.dropFirst(7).prefix(12)))
        // -a: every image no container uses, named ones too.
        #expect(try run("rm", "changed").status == 0)
        let all = try run("image", "prune", "-a")
        #expect(all.stdout.contains("untagged: swiftlet-test/busybox:latest") && !all.stdout.contains(used), "\(all.stdout)")
    }

    /// Bad input: a clear error, a non-zero exit, and no image made (by name: other suites
    /// make images in this root meanwhile).
    @Test func badInputIsRefusedAndChangesNothing() throws {
        let noContainer = try swiftlet("commit", "no-such-container-here", "x:y")
        #expect(noContainer.status == 1 && noContainer.stderr.contains("No such container: no-such-container-here"), "\(noContainer.stderr)")
        let garbage = try swiftlet("import", "-", "swiftlet-test/garbage", stdin: "this is not a tar archive, not even close\n")
        #expect(garbage.status == 1 && garbage.stderr.contains("swiftlet: -:"), "\(garbage.stderr)")
        let missing = try swiftlet("import", "/no/such/file.tar")
        #expect(missing.status == 1 && missing.stderr.contains("no such file or directory"), "\(missing.stderr)")
        let badName = try swiftlet("import", "/dev/null", "Not A Valid Name")
        #expect(badName.status != 0 && badName.stderr.hasPrefix("swiftlet: invalid image reference"), "\(badName.stderr)")
        let empty = try swiftlet("import", "/dev/null")
        #expect(empty.status != 0 && empty.stderr == "swiftlet: /dev/null: the archive is empty\n", "\(empty.stderr)")
        let noDiff = try swiftlet("diff", "no-such-container-here")
        #expect(noDiff.status == 1 && noDiff.stderr.contains("No such container"))
        #expect(try swiftlet("images", "-q", "x:y").stdout.isEmpty && (try swiftlet("images", "-q", "swiftlet-test/garbage").stdout.isEmpty))
    }
}
