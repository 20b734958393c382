import Foundation
import Runtime
import Testing

/// `swiftlet cp` both ways (docker cp's rules for directories, new names and `-`), paths
/// resolved inside the container (a symbolic link to `/` is the container's root, not the
/// host's), for a running and a stopped container.
@Suite struct CopyTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "swiftlet-cp-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let setup = "mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b && ln -s / /data/rootlink"

    @Test(arguments: TestIsolation.namespaces)
    func copiesBothWaysIntoARunningContainer(isolation: Isolation) throws {
        let name = Swiftlet.name("cp-running")
        let host = try scratch()
        defer { _ = try? swiftlet("rm", "-f", name); try? FileManager.default.removeItem(atPath: host) }
        #expect(try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, "--network", "none", Swiftlet.busybox,
                             "sh", "-c", Self.setup + " && sleep 600").status == 0)
        for _ in 0..<200 where try swiftlet("cp", "\(name):/data/sub/b", "\(host)/probe").status != 0 { usleep(50_000) }

        // Out: a directory into an existing directory keeps its name; a file to a new name.
        #expect(try swiftlet("cp", "\(name):/data", host).status == 0)
        #expect(try String(contentsOfFile: "\(host)/data/sub/b", encoding: .utf8) == "b\n")
        #expect(try swiftlet("cp", "\(name):/data/a", "\(host)/renamed").status == 0)
        #expect(try String(contentsOfFile: "\(host)/renamed", encoding: .utf8) == "a\n")
        // A link to / inside the container is the container's root: its /etc/hostname.
        #expect(try swiftlet("cp", "\(name):/data/rootlink/etc/hostname", "\(host)/hostname").status == 0)
        let hostname = try String(contentsOfFile: "\(host)/hostname", encoding: .utf8)
        #expect(hostname == (try swiftlet("exec", name, "cat", "/etc/hostname").stdout))

        // In: into a directory under its own name, and to a new name.
        try Data("from the host\n".utf8).write(to: URL(fileURLWithPath: "\(host)/note"))
        #expect(try swiftlet("cp", "\(host)/note", "\(name):/data/").status == 0)
        #expect(try swiftlet("cp", "\(host)/note", "\(name):/data/other").status == 0)
        let inside = try swiftlet("exec", name, "sh", "-c", "cat /data/note /data/other; stat -c %u:%g /data/note")
        #expect(inside.stdout == "from the host\nfrom the host\n0:0\n", "\(inside.stdout) \(inside.stderr)")

        // Docker's refusals.
        let missing = try swiftlet("cp", "\(name):/no/such/file", host)
        #expect(missing.status == 1 && missing.stderr.contains("Could not find the file /no/such/file in container"), "\(missing.stderr)")
        let notDirectory = try swiftlet("cp", "\(host)/note", "\(name):/data/a/")
        #expect(notDirectory.status != 0 && notDirectory.stderr.contains("must be a directory"), "\(notDirectory.stderr)")
        #expect(try swiftlet("exec", name, "cat", "/data/a").stdout == "a\n")
    }

    @Test(arguments: TestIsolation.available)
    func copiesInAndOutOfAStoppedContainer(isolation: Isolation) throws {
        let name = Swiftlet.name("cp-stopped")
        let host = try scratch()
        defer { _ = try? swiftlet("rm", "-f", name); try? FileManager.default.removeItem(atPath: host) }
        #expect(try swiftlet("run", "--name", name, "--isolation", isolation.rawValue, "--network", "none", Swiftlet.busybox,
                             "sh", "-c", Self.setup).status == 0)
        try Data("while stopped\n".utf8).write(to: URL(fileURLWithPath: "\(host)/note"))
        let copyIn = try swiftlet("cp", "\(host)/note", "\(name):/data/sub/")
        #expect(copyIn.status == 0, "\(copyIn.stderr)")
        let copyOut = try swiftlet("cp", "\(name):/data/sub", "\(host)/out")
        #expect(copyOut.status == 0, "\(copyOut.stderr)")
        #expect(try String(contentsOfFile: "\(host)/out/note", encoding: .utf8) == "while stopped\n")
        #expect(try String(contentsOfFile: "\(host)/out/b", encoding: .utf8) == "b\n")
        // The container sees the copied file when it starts again.
        let diff = try swiftlet("diff", name).stdout
        #expect(diff.contains("A /data/sub/note"), "\(diff)")
    }

    @Test(arguments: TestIsolation.available.filter { $0 == .microvm })
    func aRunningMicroVMContainerIsRefused(isolation: Isolation) throws {
        let name = Swiftlet.name("cp-vm")
        defer { _ = try? swiftlet("rm", "-f", name) }
        #expect(try swiftlet("run", "-d", "--name", name, "--isolation", isolation.rawValue, Swiftlet.busybox, "sleep", "600").status == 0)
        let result = try swiftlet("cp", "\(name):/etc/hostname", NSTemporaryDirectory())
        #expect(result.status == 1 && result.stderr.contains("is not supported yet: stop it first"), "\(result.stderr)")
    }
}
