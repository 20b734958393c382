import Foundation
import Testing

/// Namespace containers' resource limits on a unified cgroup v2 hierarchy.
/// RuntimeTests exercise whichever hierarchy the host has; on a v1 or hybrid host (this
/// one) the v2 path would go untested, so this test borrows a Linux with no cgroup
/// mounted yet: scripts/kvm-rig's VM (no KVM is needed for namespaces), where it mounts
/// cgroup2 at /sys/fs/cgroup and runs RuntimeTests' limit cases there: `--memory` ends in
/// an OOM kill (137, `oomKilled`), `--pids-limit` stops forks, `--cpus` writes `cpu.max`.
@Suite struct CgroupV2RigTests {
    static let products = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug")
    static let filter = "memoryLimitOOMKillsWith137|pidsLimit|cpuQuotaInCgroup"

    @Test func namespaceLimitsOnUnifiedCgroupsInTheRig() throws {
        let name = "namespaceLimitsOnUnifiedCgroupsInTheRig"
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
            print("\(name): this host's cgroups are unified (v2): RuntimeTests' limit cases test that path directly")
            return
        }
        if let problem = KVMTestPath.rigUnavailableReason {
            KVMTestPath.skip(name, because: problem)
            return
        }
        let build = try CommandResult.run([KVMTestPath.repositoryRoot.appendingPathComponent("scripts/test-images/build").path])
        try #require(build.status == 0, "scripts/test-images/build failed: \(build.stderr)")
        let root = "/dev/shm/swiftlet-cgroup2-tests"
        let swiftlet = Self.products.appendingPathComponent("swiftlet").path
        let layout = KVMTestPath.repositoryRoot.appendingPathComponent("scripts/test-images/out/busybox").path
        let script = """
            set -e
            mount -t cgroup2 cgroup2 /sys/fs/cgroup
            echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
            mkdir -p \(root)
            \(swiftlet) image load --root \(root) -i \(layout) >/dev/null
            exec \(Self.products.appendingPathComponent("swiftletPackageTests.xctest").path) --testing-library swift-testing \
                --no-parallel --filter '\(Self.filter)'
            """
        let rig = KVMTestPath.repositoryRoot.appendingPathComponent("scripts/kvm-rig").path
        let result = try CommandResult.run([rig, "--", "sh", "-c", script], environment: [
            "SWIFTLET_TEST_ISOLATIONS": "namespace", "SWIFTLET_TEST_ROOT": root, "KVM_RIG_TIMEOUT": "900",
        ])
        let report = result.stdout + result.stderr
        print(report.split(separator: "\n").filter { $0.contains("controllers:") || $0.contains("Test run with") }
            .joined(separator: "\n"))
        #expect(result.status == 0, "the limit cases failed on cgroup v2 inside the rig:\n\(RuntimeInMicroVMTests.failures(in: report))")
        for test in ["memoryLimitOOMKillsWith137", "pidsLimit", "cpuQuotaInCgroup"] {
            #expect(report.contains("✔ Test \(test)("), "\(test) ran and passed: \(report)")
        }
        #expect(report.contains("controllers:") && report.contains("memory") && report.contains("pids"),
                "the rig's cgroup2 has the memory and pids controllers: \(report)")
    }
}
