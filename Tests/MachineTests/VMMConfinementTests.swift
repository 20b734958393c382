import ChildProcess
import Foundation
import Testing

/// swiftlet-vmm's confinement on this host's /dev/kvm, with the freestanding firmware
/// guest: while the guest runs, every thread has a seccomp filter, a root VMM runs as
/// its unprivileged id with no_new_privs and a root holding only its vsock socket's
/// directory; a system call outside the filters ends it with SIGSYS naming the call.
@Suite(.serialized) struct VMMConfinementTests {
    static let vmm = FirmwareBuild.directory.deletingLastPathComponent()
        .appendingPathComponent(".build/debug/swiftlet-vmm").path

    /// Whether this host can run the test (printing why not).
    func ready(_ name: String) -> Bool {
        guard FirmwareBuild.runs(name) else { return false }
        #expect(FileManager.default.isExecutableFile(atPath: Self.vmm), "build swiftlet-vmm first (swift build)")
        return true
    }

    /// The `Name:` line of /proc/<pid>/status (or a task's), without the name.
    static func statusField(_ name: String, of path: String) -> String? {
        guard let status = try? String(contentsOfFile: "\(path)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("\(name):") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    /// Every file and directory under `root`, as paths relative to it.
    static func tree(_ root: String, under prefix: String = "") -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + prefix)) ?? []
        return names.sorted().flatMap { name in
            let path = prefix.isEmpty ? name : "\(prefix)/\(name)"
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory)
            return [path] + (isDirectory.boolValue ? tree(root, under: path) : [])
        }
    }

    @Test func runningVMMIsFilteredUnprivilegedAndJailedNeedsKVM() throws {
        guard ready("runningVMMIsFilteredUnprivilegedAndJailedNeedsKVM"), geteuid() == 0 else { return }
        let directory = NSTemporaryDirectory() + "swiftlet-vmm-jail-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let child = try ChildProcess([Self.vmm, "--kernel", FirmwareBuild.path("hello64.bzImage"), "--cmdline", "hang",
                                      "--memory", "64M", "--cpus", "2", "--vsock", "cid=3,uds=\(directory)/v.sock"])
        defer { _ = child.waitKilling(after: 0) }
        let process = "/proc/\(child.pid)"
        // The main thread loads its filter last, once every other thread has its own (up
        // to a minute: under the rig's emulation start-up takes seconds).
        let deadline = Date().addingTimeInterval(60)
        // The guest prints "hanging" once it has booted; by then every thread exists.
        while !child.output(1).contains("hanging") || Self.statusField("Seccomp", of: process) != "2",
              child.wait(timeout: 0.01) == nil, Date() < deadline {}
        try #require(Self.statusField("Seccomp", of: process) == "2", "stderr: \(child.output(2))")
        #expect(child.output(1).contains("hanging"), "stdout: \(child.output(1))")

        let tasks = try FileManager.default.contentsOfDirectory(atPath: "\(process)/task")
        #expect(tasks.count == 5, "main, device, two vCPUs and the console reader: \(tasks)")
        for task in tasks {
            #expect(Self.statusField("Seccomp", of: "\(process)/task/\(task)") == "2", "thread \(task)")
        }
        let uids = Self.statusField("Uid", of: process)?.split(separator: "\t").compactMap { UInt32($0) } ?? []
        #expect(uids.count == 4 && uids.allSatisfy { $0 == 1_000_000_000 + UInt32(child.pid) }, "Uid: \(uids)")
        #expect(Self.statusField("NoNewPrivs", of: process) == "1")
        #expect(Self.statusField("CapEff", of: process) == "0000000000000000")

        let kept = String(directory.dropFirst())
        var expected: [String] = []
        var prefix = ""
        for component in kept.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + component
            expected.append(prefix)
        }
        #expect(Self.tree("\(process)/root") == expected + ["\(kept)/v.sock"])

        child.signal(SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)
    }

    @Test func forbiddenSystemCallEndsTheVMMWithSIGSYSNamingItNeedsKVM() throws {
        guard ready("forbiddenSystemCallEndsTheVMMWithSIGSYSNamingItNeedsKVM") else { return }
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFTLET_VMM_TEST_FORBIDDEN_SYSCALL"] = "1"
        let result = try ChildProcess.run([Self.vmm, "--kernel", FirmwareBuild.path("hello64.bzImage"), "--cmdline", "hang",
                                           "--memory", "64M"], environment: environment, timeout: 60)
        #expect(result.status == 128 + SIGSYS, "stderr: \(result.stderr)")
        // 110 is getppid's number on x86-64.
        #expect(result.stderr.contains("swiftlet-vmm: seccomp: forbidden system call 110 (getppid)"),
                "stderr: \(result.stderr)")
    }

    @Test func unjailedVMMStillFiltersEveryThreadNeedsKVM() throws {
        guard ready("unjailedVMMStillFiltersEveryThreadNeedsKVM") else { return }
        let result = try ChildProcess.run([Self.vmm, "--kernel", FirmwareBuild.path("smp.elf"), "--cpus", "4",
                                           "--memory", "64M", "--no-jail"], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("smp: 4 cpus online"), "stdout: \(result.stdout)")
    }
}
