import Foundation
import Runtime
import Testing

/// Docker's default confinement: in a default container, as root, the known ways
/// out fail (scripts/test-images/escape-probe.c tries them and prints one line each);
/// `--privileged` lifts the confinement, `seccomp=unconfined` only the filter; the other
/// security flags do what Docker's do. Under every available isolation.
@Suite struct ConfinementTests {
    /// The probe's report: technique → (blocked, detail).
    static func probe(_ isolation: Isolation, _ flags: [String] = []) throws -> [String: (blocked: Bool, detail: String)] {
        let arguments = ["run", "--rm", "--network", "none", "--isolation", isolation.rawValue] + flags
            + [Swiftlet.busybox, "/bin/escape-probe", String(getpid())]
        let result = try Swiftlet.execute([Swiftlet.executable] + arguments, root: try Swiftlet.root.get(), stdin: nil)
        #expect(result.status == 0, "escape-probe: \(result.stderr)")
        var report: [String: (blocked: Bool, detail: String)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard fields.count >= 2 else { continue }
            report[fields[0]] = (fields[1] == "blocked", fields.count > 2 ? fields[2] : "")
        }
        #expect(report.count >= 20, "probe output: \(result.stdout)")
        return report
    }

    static let hostSettings = ["/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/sys/net/ipv4/ip_forward"]

    @Test(arguments: TestIsolation.available)
    func defaultContainerBlocksEveryEscape(isolation: Isolation) throws {
        let before = Self.hostSettings.map { try? String(contentsOfFile: $0, encoding: .utf8) }
        let report = try Self.probe(isolation)
        for (technique, outcome) in report.sorted(by: { $0.key < $1.key }) {
            #expect(outcome.blocked, "\(technique) is open in a default \(isolation) container: \(outcome.detail)")
        }
        #expect(report["seccomp-filter"]?.detail == "2")
        #expect(report["capabilities"]?.detail == "00000000a80425fb")
        #expect(Self.hostSettings.map { try? String(contentsOfFile: $0, encoding: .utf8) } == before)
    }

    @Test(arguments: TestIsolation.available)
    func privilegedLiftsTheConfinement(isolation: Isolation) throws {
        let report = try Self.probe(isolation, ["--privileged"])
        for technique in ["seccomp-filter", "capabilities", "proc-sys-core-pattern", "mount-tmpfs", "unshare-mount",
                          "keyctl", "mknod-block-device"] {
            #expect(report[technique]?.blocked == false, "\(technique) still blocked with --privileged: \(report[technique]?.detail ?? "")")
        }
    }

    @Test(arguments: TestIsolation.available)
    func unconfinedSeccompLiftsOnlyTheFilter(isolation: Isolation) throws {
        let report = try Self.probe(isolation, ["--security-opt", "seccomp=unconfined"])
        #expect(report["seccomp-filter"]?.detail == "0")
        #expect(report["keyctl"]?.blocked == false)
        for technique in ["proc-sys-core-pattern", "proc-keys", "sys-firmware", "mount-tmpfs", "finit-module", "capabilities"] {
            #expect(report[technique]?.blocked == true, "\(technique) open with seccomp=unconfined")
        }
    }

    @Test(arguments: TestIsolation.available)
    func capabilitiesAreAddedAndDropped(isolation: Isolation) throws {
        let dropped = try swiftlet("run", "--rm", "--network", "none", "--isolation", isolation.rawValue, "--cap-drop", "ALL",
                                   "--cap-add", "chown", Swiftlet.busybox, "sh", "-c", "grep CapEff /proc/self/status")
        #expect(dropped.stdout == "CapEff:\t0000000000000001\n", "\(dropped.stderr)")
        let admin = try Self.probe(isolation, ["--cap-add", "SYS_ADMIN"])
        #expect(admin["mount-tmpfs"]?.blocked == false)
        #expect(admin["proc-sys-core-pattern"]?.blocked == true)
    }

    @Test(arguments: TestIsolation.available)
    func readOnlyRootTmpfsSysctlAndNoNewPrivileges(isolation: Isolation) throws {
        let result = try swiftlet(
            "run", "--rm", "--network", "none", "--isolation", isolation.rawValue, "--read-only", "--tmpfs", "/run:size=1m,mode=1777",
            "--sysctl", "net.ipv4.ip_forward=1", "--security-opt", "no-new-privileges", Swiftlet.busybox, "sh", "-c",
            "touch /file 2>/dev/null || echo root read-only; touch /run/file && echo tmpfs writable; "
                + "cat /proc/sys/net/ipv4/ip_forward; grep NoNewPrivs /proc/self/status; grep ' /run ' /proc/mounts")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("root read-only\ntmpfs writable\n1\nNoNewPrivs:\t1\ntmpfs /run tmpfs rw,nosuid,nodev,noexec"),
                "\(result.stdout)")
        #expect(result.stdout.contains("size=1024k"))
    }

    @Test(arguments: TestIsolation.available)
    func seccompProfileFileIsHonoured(isolation: Isolation) throws {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("profile-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: profile) }
        try Data(#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#.utf8)
            .write(to: profile)
        let result = try swiftlet("run", "--rm", "--network", "none", "--isolation", isolation.rawValue, "--security-opt",
                                  "seccomp=\(profile.path)", Swiftlet.busybox, "sh", "-c", "mkdir /tmp/d; grep Seccomp: /proc/self/status")
        #expect(result.stderr.contains("Permission denied"), "\(result.stderr)")
        #expect(result.stdout == "Seccomp:\t2\n")
    }

    @Test func badSecurityOptionsAreOneLineErrors() throws {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("bad-profile-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: profile) }
        try Data(#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_EXPLODE"}]}"#.utf8).write(to: profile)
        let cases: [([String], String)] = [
            (["--security-opt", "apparmor=x"], "invalid --security-opt"),
            (["--security-opt", "seccomp=/nonexistent/profile.json"], "opening seccomp profile"),
            (["--security-opt", "seccomp=\(profile.path)"], "unknown seccomp action"),
            (["--cap-add", "NOT_A_CAP"], "unknown capability"),
            (["--sysctl", "kernel.core_pattern=|/x"], "is not allowed"),
            (["--sysctl", "novalue"], "use KEY=VALUE"),
            (["--tmpfs", "relative"], "must be absolute"),
            (["--tmpfs", "/run:bogus"], "invalid --tmpfs option"),
        ]
        for (flags, message) in cases {
            let result = try Swiftlet.execute([Swiftlet.executable, "create", "--isolation", "namespace"] + flags + [Swiftlet.busybox],
                                              root: try Swiftlet.root.get(), stdin: nil)
            #expect(result.status == 125, "\(flags)")
            #expect(result.stderr.hasPrefix("swiftlet: ") && result.stderr.contains(message), "\(flags): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(flags): \(result.stderr)")
        }
    }
}
