import HostSystem
import Foundation
@testable import Runtime
import Testing

/// `--userns=auto` (podman's option): a namespace container's root is
/// an unprivileged block of the host's subordinate ids (user `containers` in
/// /etc/subuid and /etc/subgid, which scripts/setup configures), blocks of running
/// containers do not overlap, the image's files keep their owners as the container sees
/// them (an idmapped mount, or a shifted copy where there is none), and the escape probe
/// still finds every way out closed.
@Suite struct UserNamespaceTests {
    static let subordinateStart: UInt64 = 2_147_483_647

    /// The first line of /proc/self/uid_map in a container as "inside host size".
    static func mapping(_ text: String) -> [UInt64] {
        text.split(whereSeparator: \.isNewline).first?.split(separator: " ").compactMap { UInt64($0) } ?? []
    }

    /// The host uid and gid that own `path` in a container's upper directory.
    static func hostOwner(container name: String, path: String) throws -> (uid: UInt32, gid: UInt32) {
        let upper = "\(try Swiftlet.root.get())/containers/\(try containerID(name))/upper\(path)"
        var info = stat()
        try #require(lstat(upper, &info) == 0, "\(upper) is missing")
        return (info.st_uid, info.st_gid)
    }

    @Test(arguments: TestIsolation.namespaces)
    func rootIsASubordinateBlockAndImageOwnersAreKept(isolation: Isolation) throws {
        let first = Swiftlet.name("userns-a"), second = Swiftlet.name("userns-b")
        defer { _ = try? swiftlet("rm", "-f", first, second) }
        for name in [first, second] {
            let run = try swiftlet("run", "-d", "--name", name, "--userns=auto", "--isolation", isolation.rawValue,
                                   Swiftlet.busybox, "sleep", "300")
            try #require(run.status == 0, "run: \(run.stderr)")
        }
        let maps = try [first, second].map { name in
            let result = try swiftlet("exec", name, "cat", "/proc/self/uid_map")
            #expect(result.status == 0, "exec: \(result.stderr)")
            return Self.mapping(result.stdout)
        }
        for map in maps {
            #expect(map.count == 3 && map[0] == 0 && map[2] == 65536, "uid_map: \(map)")
            #expect((map.dropFirst().first ?? 0) >= Self.subordinateStart, "uid_map: \(map)")
        }
        #expect(maps[0].count == 3 && maps[1].count == 3 && maps[0][1] != maps[1][1], "blocks overlap: \(maps)")

        // Root inside, owners of the image's files as the image has them, a file it makes
        // owned on the host by its block's first id.
        let look = try swiftlet("exec", first, "sh", "-c",
                                "id -u; stat -c '%u:%g' /bin/busybox /etc/passwd; touch /made; stat -c '%u:%g' /made; ls -ln /proc/1/root >/dev/null && echo ok")
        #expect(look.stdout.split(separator: "\n") == ["0", "0:0", "0:0", "0:0", "ok"], "stdout: \(look.stdout) stderr: \(look.stderr)")
        let owner = try Self.hostOwner(container: first, path: "/made")
        #expect(UInt64(owner.uid) == maps[0][1] && owner.gid >= UInt32(Self.subordinateStart), "host owner \(owner)")
        // /etc/hosts and /etc/hostname, written by the runtime, belong to the container's root.
        let etc = try swiftlet("exec", first, "sh", "-c", "stat -c '%u' /etc/hosts /etc/hostname; echo 10.9.9.9 extra >> /etc/hosts && echo written")
        #expect(etc.stdout == "0\n0\nwritten\n", "stdout: \(etc.stdout) stderr: \(etc.stderr)")
    }

    @Test(arguments: TestIsolation.namespaces)
    func shiftedCopyStandsInForIdmappedMounts(isolation: Isolation) throws {
        let name = Swiftlet.name("userns-copy")
        defer { _ = try? swiftlet("rm", "-f", name) }
        let result = try Swiftlet.execute(
            [Swiftlet.executable, "run", "--name", name, "--userns=auto", "--isolation", isolation.rawValue, Swiftlet.busybox,
             "sh", "-c", "cat /proc/self/uid_map; stat -c '%u:%g %A' /bin/busybox /etc/passwd; touch /made && echo made"],
            root: try Swiftlet.root.get(), environment: [ImageTreeView.noIdmapVariable: "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "stdout: \(result.stdout)")
        #expect(Self.mapping(lines.first ?? "").last == 65536)
        #expect(lines.dropFirst().first?.hasPrefix("0:0 ") == true && lines.last == "made", "stdout: \(result.stdout)")
        let copy = "\(try Swiftlet.root.get())/containers/\(try containerID(name))/lower-shifted/bin/busybox"
        var info = stat()
        #expect(lstat(copy, &info) == 0 && UInt64(info.st_uid) == Self.mapping(lines[0]).dropFirst().first, "copy's owner \(info.st_uid)")
    }

    @Test(arguments: TestIsolation.namespaces)
    func escapesStayClosedInAUserNamespace(isolation: Isolation) throws {
        let report = try ConfinementTests.probe(isolation, ["--userns=auto"])
        for (technique, outcome) in report.sorted(by: { $0.key < $1.key }) {
            #expect(outcome.blocked, "\(technique) is open in a --userns=auto container: \(outcome.detail)")
        }
        #expect(report["seccomp-filter"]?.detail == "2")
    }

    @Test func badUserNamespaceOptionsAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["--userns=bogus"], "invalid --userns: \"bogus\""),
            (["--userns=auto:size=0"], "invalid --userns: \"auto:size=0\""),
            (["--userns=auto:big=1"], "invalid --userns"),
            (["--userns=auto", "--privileged", "--isolation", "namespace"], "--privileged cannot be combined with --userns=auto"),
            (["--userns=auto", "--isolation", "microvm"], "--userns=auto is not supported with --isolation microvm"),
        ]
        for (flags, message) in cases {
            let result = try Swiftlet.execute([Swiftlet.executable, "run", "--rm"] + flags + [Swiftlet.busybox, "true"],
                                              root: try Swiftlet.root.get())
            #expect(result.status == 125, "\(flags): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}

/// The pure parts of `--userns`: the option's grammar, subuid(5) lines, block allocation.
@Suite struct UserNamespaceAllocationTests {
    @Test func modesParse() throws {
        #expect(try UserNamespaceMode(parsing: "host") == .host)
        #expect(try UserNamespaceMode(parsing: "auto") == .auto(size: 65536))
        #expect(try UserNamespaceMode(parsing: "auto:size=1024") == .auto(size: 1024))
        for bad in ["auto:", "auto:size=", "auto:size=-1", "auto:size=4294967296", "keep-id", "Auto", "auto:size=10,size"] {
            #expect(throws: SwiftletError.self, "\(bad)") { try UserNamespaceMode(parsing: bad) }
        }
    }

    @Test func subordinateRangesAreTheUsersOnly() {
        let text = "alice:100000:65536\ncontainers:200000:131072\n# comment\ncontainers:bad:1\n1001:300000:65536\ncontainers:4294967290:100\n"
        #expect(SubordinateIDs.ranges(in: text) == [200_000..<331_072])
        #expect(SubordinateIDs.ranges(in: text, uid: 1001) == [200_000..<331_072, 300_000..<365_536])
    }

    @Test func blocksAreTheLowestFreeAndNeverOverlap() throws {
        let ranges: [Range<UInt64>] = [1000..<1000 + 3 * 65536]
        let first = try IDMapping.allocate(size: 65536, uidRanges: ranges, gidRanges: ranges, taken: [])
        #expect(first == IDMapping(hostUID: 1000, hostGID: 1000, size: 65536))
        let odd = IDMapping(hostUID: 1000 + 100, hostGID: 1000, size: 10)
        let second = try IDMapping.allocate(size: 65536, uidRanges: ranges, gidRanges: ranges, taken: [odd])
        #expect(second == IDMapping(hostUID: 1110, hostGID: 1010, size: 65536))
        let full = [first, IDMapping(hostUID: 1000 + 65536, hostGID: 1000 + 65536, size: 65536),
                    IDMapping(hostUID: 1000 + 2 * 65536, hostGID: 1000 + 2 * 65536, size: 65536)]
        #expect(throws: SwiftletError.self) {
            try IDMapping.allocate(size: 65536, uidRanges: ranges, gidRanges: ranges, taken: full)
        }
        let small = try IDMapping.allocate(size: 1024, uidRanges: ranges + [9_000_000..<9_001_024],
                                           gidRanges: [5_000_000..<5_001_024], taken: full)
        #expect(small == IDMapping(hostUID: 9_000_000, hostGID: 5_000_000, size: 1024))
    }
}
