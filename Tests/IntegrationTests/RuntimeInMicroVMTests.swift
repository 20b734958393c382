import Foundation
import Testing

/// RuntimeTests' behavioural cases (exit codes, overrides and image
/// defaults, data across stop/start and rm, named volumes, stop/kill/exec, detached logs,
/// ps and wait, stdin, TTY, OOM, PID 1, races with a container's own end, restarts by policy, the bridge
/// network), and the image-making suites (build, commit, diff, export, cp), under microVM
/// isolation. Where KVM runs Linux guests
/// directly those cases run in RuntimeTests itself (its `TestIsolation` includes microvm);
/// otherwise each test here runs the same test binary inside one scripts/kvm-rig run with
/// `SWIFTLET_TEST_ISOLATIONS=microvm`, so nested boots happen where a real /dev/kvm exists.
/// The image store is prepared on the host first (loading and flattening under emulation
/// would take minutes); containers and volumes live on the rig's tmpfs, where the Unix
/// sockets and locks they use work (the rig's 9p shares refuse sockets).
@Suite(.serialized) struct RuntimeInMicroVMTests {
    static let products = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug")
    static let swiftlet = products.appendingPathComponent("swiftlet").path
    static let testBinary = products.appendingPathComponent("swiftletPackageTests.xctest").path
    static let imagesRoot = NSTemporaryDirectory() + "swiftlet-microvm-test-images"
    /// The RuntimeTests suites and tests that take an isolation and apply to microVMs, and
    /// the docker client against swiftletd with microVM containers (DaemonTests), in two
    /// rig runs: a run that is cut off or retried costs only its half, and each half stays
    /// well inside its timeout (together they took over 1200 s in CI25).
    static let behaviourFilter = "RuntimeTests\\.(BehaviourTests|ForegroundTests|TerminalTests)|MicroVMDaemonTests"
    static let networkFilter = "RuntimeTests\\.(LifecycleRaceTests|NetworkTests|PublishedPortTests|ConfinementTests)|memoryLimitOOMKillsWith137|onFailureRestartsUpToItsLimit"
    /// Images made from microVM containers (build, commit, diff, export, cp): a rig run of
    /// their own, so a hang or a retry costs only their share.
    static let imageMakingFilter = "RuntimeTests\\.(ImageMakingTests|BuildTests|CopyTests)"

    @Test func runtimeBehaviourInMicroVMsNeedsKVM() throws {
        // About 25 nested boots, each several seconds under the rig's emulation, plus three
        // Swift process start-ups per container: about 450 s seen in CI25; allow 1000 s.
        try runInRig("runtimeBehaviourInMicroVMsNeedsKVM", filter: Self.behaviourFilter, timeout: 1000, expectedSuite: "BehaviourTests")
    }

    @Test func runtimeNetworkingInMicroVMsNeedsKVM() throws {
        // Races, networks (NAT, published ports, user networks), confinement, OOM and
        // restarts: about 25 nested boots more; allow 1000 s.
        try runInRig("runtimeNetworkingInMicroVMsNeedsKVM", filter: Self.networkFilter, timeout: 1000, expectedSuite: "NetworkTests")
    }

    @Test func imageMakingInMicroVMsNeedsKVM() throws {
        // About 20 nested boots (a build boots one per RUN step): about 400 s seen; allow 1000 s.
        try runInRig("imageMakingInMicroVMsNeedsKVM", filter: Self.imageMakingFilter, timeout: 1000, expectedSuite: "BuildTests")
    }

    /// Runs the RuntimeTests matching `filter` with microVM isolation inside the rig (a hung
    /// rig is cut off after `timeout` seconds, and KVMTestPath retries it once), and expects
    /// them to pass, `expectedSuite` among them.
    private func runInRig(_ name: String, filter: String, timeout: Int, expectedSuite: String) throws {
        guard KVMTestPath.ready(for: name) else { return }
        if case .direct = KVMTestPath.current {
            print("\(name): RuntimeTests run the microvm cases directly on this host's KVM")
            return
        }
        let initramfs = KVMTestPath.guestImages.appendingPathComponent("container-initramfs.cpio.gz").path
        guard FileManager.default.fileExists(atPath: initramfs) else {
            KVMTestPath.skip(name, because: "\(initramfs) is missing (run guest-images/build)")
            return
        }
        try prepareImages()
        let root = "/dev/shm/swiftlet-runtime-tests"
        let script = "set -e; mkdir -p \(root); ln -sfn \(Self.imagesRoot)/images \(root)/images; "
            + "exec \(Self.testBinary) --testing-library swift-testing --no-parallel --filter '\(filter)'"
        // A rig that prints nothing for 420 s has hung (a command is cut off after 300 s and
        // says so): it is stopped then, not at the timeout, and run again.
        let environment = ["SWIFTLET_TEST_ISOLATIONS": "microvm", "SWIFTLET_TEST_ROOT": root, "KVM_RIG_TIMEOUT": "\(timeout)",
                           "KVM_RIG_IDLE": "420"]
        var result = try KVMTestPath.current.run(["sh", "-c", script], environment: environment)
        // A command that hung (RuntimeTests cuts it off after `Swiftlet.commandTimeout`)
        // has so far always been the emulation under the rig: a nested VM spinning, or
        // the rig's kernel failing. The run is repeated once; a second hang fails with
        // the diagnosis the first one printed.
        if result.status != 0, (result.stdout + result.stderr).contains("did not finish within") {
            print("a command hung in the rig; running the microvm cases once more:\n\(Self.failures(in: result.stdout + result.stderr))")
            result = try KVMTestPath.current.run(["sh", "-c", script], environment: environment)
        }
        // swift-testing reports on stderr. The whole report goes to a file; the failure
        // message carries the failures with their details, which CI shows in full.
        let report = result.stdout + result.stderr
        let saved = NSTemporaryDirectory() + "swiftlet-\(name).log"
        try? report.write(toFile: saved, atomically: true, encoding: .utf8)
        let failures = Self.failures(in: report)
        print(report.split(separator: "\n").filter { $0.contains("Test run with") }.joined(separator: "\n"))
        #expect(result.status == 0, "the microvm run of RuntimeTests failed inside the rig (full report: \(saved)):\n\(failures)")
        #expect(report.contains("Suite \(expectedSuite) passed"), "the cases ran (full report: \(saved))")
    }

    /// The report's failure lines, each with the detail lines swift-testing prints under it
    /// (value differences, comments), or its last lines when nothing was marked failed.
    static func failures(in report: String) -> String {
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false)
        var picked: [Substring] = []
        var inFailure = false
        for line in lines {
            if line.contains("✘") {
                inFailure = !line.contains("Test run with") && !line.contains("Suite ")
                if inFailure { picked.append(line) }
            } else if line.contains("◇") || line.contains("✔") {
                inFailure = false
            } else if inFailure {
                picked.append(line)
            }
        }
        return (picked.isEmpty ? lines.suffix(40) : picked).joined(separator: "\n")
    }

    /// Loads the test images into a host-side root and builds their EROFS rootfs images
    /// (both only once; later runs find them).
    func prepareImages() throws {
        let build = try CommandResult.run([KVMTestPath.repositoryRoot.appendingPathComponent("scripts/test-images/build").path])
        try #require(build.status == 0, "scripts/test-images/build failed: \(build.stderr)")
        for image in ["busybox", "debian"] {
            let reference = "swiftlet-test/\(image)"
            if try CommandResult.run([Self.swiftlet, "image", "inspect", "--root", Self.imagesRoot, reference]).status != 0 {
                let layout = KVMTestPath.repositoryRoot.appendingPathComponent("scripts/test-images/out/\(image)").path
                let load = try CommandResult.run([Self.swiftlet, "image", "load", "--root", Self.imagesRoot, "-i", layout])
                try #require(load.status == 0, "image load \(image) failed: \(load.stderr)")
            }
            let rootfs = try CommandResult.run([Self.swiftlet, "image", "rootfs", "--root", Self.imagesRoot, reference])
            try #require(rootfs.status == 0, "image rootfs \(image) failed: \(rootfs.stderr)")
        }
    }
}
