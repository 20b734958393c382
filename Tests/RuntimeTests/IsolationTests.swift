import Foundation
import Runtime
import Testing

/// What isolation must guarantee: no view of host processes, no
/// mounting over the host, limits enforced by the kernel.
@Suite struct IsolationTests {
    @Test(arguments: TestIsolation.namespaces)
    func seesOnlyItsOwnProcesses(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox, "ps", "-o", "pid,comm")
        #expect(result.status == 0)
        let rows = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { $0.first ?? "" } == ["1"])
        #expect(rows.first?.last == "ps")
    }

    @Test(arguments: TestIsolation.namespaces)
    func cannotMount(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                  "sh", "-c", "mkdir -p /mnt && mount -t tmpfs none /mnt")
        #expect(result.status != 0)
        #expect(result.stderr.lowercased().contains("permission denied"))
    }

    /// Without a network device: the limit alone is under test (the microVM's RAM is the
    /// limit plus a fixed overhead, and the case stays the same VM as before networking).
    @Test(arguments: TestIsolation.available)
    func memoryLimitOOMKillsWith137(isolation: Isolation) throws {
        let name = Swiftlet.name("oom")
        let result = try swiftlet("run", "--name", name, "--memory", "16m", "--network", "none", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                  "sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived")
        #expect(result.status == 137)
        #expect(!result.stdout.contains("survived"))
        #expect(try swiftlet("inspect", name).stdout.contains(#""oomKilled" : true"#))
        try swiftlet("rm", name)
    }

    @Test(arguments: TestIsolation.namespaces)
    func pidsLimit(isolation: Isolation) throws {
        let result = try swiftlet("run", "--rm", "--pids-limit", "4", "--isolation", isolation.rawValue, Swiftlet.busybox,
                                  "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait")
        #expect(result.stderr.contains("can't fork"))
    }

    /// `--cpus` becomes a CFS quota on the container's cgroup (v1 cpu controller here, or
    /// cpu.max on a unified hierarchy).
    @Test func cpuQuotaInCgroup() throws {
        let name = Swiftlet.name("cpus")
        let id = try swiftlet("run", "-d", "--name", name, "--isolation", "namespace", "--cpus", "0.5", Swiftlet.busybox,
                              "sleep", "100").stdout.trimmed
        defer { _ = try? swiftlet("rm", "-f", name) }
        let unified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        let path = unified ? "/sys/fs/cgroup/swiftlet/\(id)/cpu.max" : "/sys/fs/cgroup/cpu/swiftlet/\(id)/cpu.cfs_quota_us"
        let value = try String(contentsOfFile: path, encoding: .utf8).trimmed
        #expect(value == (unified ? "50000 100000" : "50000"))
        try swiftlet("rm", "-f", name)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A mount point through a symbolic link of the image (Debian's /bin -> usr/bin) is
    /// refused: resolved before pivot_root it would land on the host's filesystem.
    @Test(arguments: TestIsolation.namespaces)
    func mountPointThroughSymlinkIsRefused(isolation: Isolation) throws {
        let target = "/bin/swiftlet-test-\(UUID().uuidString.prefix(8))"
        let result = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "-v", "/tmp:\(target)", Swiftlet.debian, "true")
        #expect(result.status == 125)
        #expect(result.stderr.contains("is a symbolic link or not a directory"))
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// MicroVM isolation is the default; where KVM cannot run Linux guests, `run` says so
    /// in one line pointing at `--isolation namespace`, and creates nothing.
    @Test func microvmWithoutLinuxKVMIsOneClearLine() throws {
        guard try swiftlet("kvm-check", "--require-linux").status != 0 else {
            print("microvmWithoutLinuxKVMIsOneClearLine: not applicable, this host's KVM runs Linux guests")
            return
        }
        let name = Swiftlet.name("nokvm")
        for arguments in [["run", "--name", name], ["create", "--name", name, "--isolation", "microvm"]] {
            let result = try Swiftlet.execute([Swiftlet.executable] + arguments + [Swiftlet.busybox, "true"], root: try Swiftlet.root.get())
            #expect(result.status == 125)
            #expect(result.stderr.hasPrefix("swiftlet: cannot run microVM containers on this host: "))
            #expect(result.stderr.hasSuffix("; use --isolation namespace\n"))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try swiftlet("inspect", name).status == 1)
    }

    @Test func nameConflictAndUnknownContainer() throws {
        let name = Swiftlet.name("conflict")
        #expect(try swiftlet("create", "--name", name, "--isolation", "namespace", Swiftlet.busybox, "true").status == 0)
        let second = try swiftlet("create", "--name", name, "--isolation", "namespace", Swiftlet.busybox, "true")
        #expect(second.status == 125)
        #expect(second.stderr.contains("is already in use"))
        #expect(try swiftlet("rm", name).status == 0)
        #expect(try swiftlet("rm", name).status == 1)
    }
}
