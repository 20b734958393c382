import HostSystem
import Foundation
import KVM
#if canImport(Glibc)
import Glibc
#endif

/// What `swiftlet bench` was asked to do.
public struct BenchOptions: Sendable {
    public var settings: BenchSettings
    public var quick: Bool
    /// System ids to measure (`BenchSuite.systemIDs`).
    public var systems: [String]
    /// The `swiftlet` executable measured (the bench drives Swiftlet through its CLI).
    public var swiftlet: String
    /// This program, re-run inside scripts/kvm-rig for the VM rows.
    public var benchExecutable: String
    /// Swiftlet's state root for the bench image, volume and containers.
    public var root: String
    /// Scratch space: artifacts, bundles, disk test files (under /tmp, shared with the rig).
    public var work: String
    /// guest-images/out: the kernel and initramfs for the QEMU peer, and the rig's.
    public var guestImages: String
    /// scripts/kvm-rig, for VM rows on hosts without hardware KVM; nil if not found.
    public var rig: String?
    /// Set for the run inside the rig: measure VM rows directly, reuse these artifacts.
    public var insideRig: Bool
    public var artifacts: String?

    public init(settings: BenchSettings, quick: Bool, systems: [String], swiftlet: String, benchExecutable: String,
                root: String, work: String, guestImages: String, rig: String?, insideRig: Bool, artifacts: String?) {
        self.benchExecutable = benchExecutable
        self.settings = settings
        self.quick = quick
        self.systems = systems
        self.swiftlet = swiftlet
        self.root = root
        self.work = work
        self.guestImages = guestImages
        self.rig = rig
        self.insideRig = insideRig
        self.artifacts = artifacts
    }
}

/// The benchmark: builds the workload image, measures each requested system in turn
/// (never two at once: they would share the CPUs), runs the VM rows inside
/// scripts/kvm-rig when this host's KVM cannot run Linux guests, and collects
/// `BenchResults`.
public enum BenchSuite {
    /// Every system, in table order. `crun` falls back to `runc` when crun cannot run here.
    public static let systemIDs = ["host", "namespace", "crun", "runc", "microvm", "qemu-microvm"]
    /// The default selection (runc only as crun's fallback).
    public static let defaultSystems = ["host", "namespace", "crun", "microvm", "qemu-microvm"]
    static let vmSystems: Set<String> = ["microvm", "qemu-microvm"]

    public static func run(_ options: BenchOptions, log: @escaping @Sendable (String) -> Void) throws -> BenchResults {
        let fm = FileManager.default
        try fm.createDirectory(atPath: options.work, withIntermediateDirectories: true)
        let image: BenchImage
        if let artifacts = options.artifacts {
            image = BenchImage(directory: artifacts)
        } else {
            log("building the workload and the bench image")
            image = try BenchImage.build(in: "\(options.work)/image")
        }
        let kvm = HostKVM.detect()
        let host = hostFacts(kvm)
        let direct = options.insideRig || kvm.runsLinuxGuests
        let environment = options.insideRig ? "kvm-rig" : "host"
        var systems: [SystemInfo] = []
        var outcomes: [String: [String: Outcome]] = [:]
        var notes: [String] = []
        #if DEBUG
        if !options.insideRig {
            notes.append("This swiftlet is a debug build: Swiftlet's own start-up, monitor and TCP client run unoptimised, so its rows understate it; `swift build -c release` and `.build/release/swiftlet bench` give representative numbers.")
        }
        #endif

        func record(_ info: SystemInfo, _ results: [String: Outcome]) {
            systems.append(info)
            outcomes[info.id] = results
        }
        func unavailable(_ id: String, _ label: String, _ reason: String) {
            record(SystemInfo(id: id, label: label, environment: environment, unavailable: reason), [:])
        }

        if options.systems.contains(where: { $0 == "namespace" || ($0 == "microvm" && direct) }) {
            log("loading \(BenchImage.reference) into \(options.root)")
            try Subprocess.run([options.swiftlet, "image", "load", "--root", options.root, "-i", image.layout])
        }
        if options.systems.contains(where: vmSystems.contains) && !options.insideRig {
            let kernel = (guestKernel(options.guestImages) as NSString).lastPathComponent
            notes.append("Both VM rows boot the same guest kernel, \(kernel) from \(options.guestImages)"
                + (kernel == "vmlinuz" ? " (Debian's cloud kernel; `guest-images/build --microvm-kernel` builds Swiftlet's minimal one, which boots faster)." : " (Swiftlet's minimal kernel config)."))
        }
        let network = NetworkPath.unavailableReason == nil ? NetworkPath(hostBinary: image.binary) : nil
        for id in systemIDs where options.systems.contains(id) {
            if vmSystems.contains(id) && !direct { continue }
            let runner: any SystemRunner
            do {
                runner = try makeRunner(id, image: image, options: options).get()
                log("\(runner.id): preparing")
                do {
                    try runner.prepare()
                } catch {
                    runner.cleanUp()
                    throw error
                }
            } catch {
                if id == "crun" && !options.systems.contains("runc") {
                    let fallback = fallbackToRunc(crunError: "\(error)", image: image, options: options, network: network, log: log)
                    record(fallback.0, fallback.1)
                notes += fallback.2
                } else {
                    unavailable(id, label(id), "\(error)")
                }
                continue
            }
            let (results, systemNotes) = SystemMeasurement(runner: runner, settings: options.settings, network: network, log: log).measure()
            runner.cleanUp()
            notes += systemNotes
            record(SystemInfo(id: runner.id, label: runner.label, environment: environment, unavailable: nil), results)
        }

        let inRig = options.systems.filter { vmSystems.contains($0) && !direct }
        if !inRig.isEmpty {
            notes.append("This host has \(kvm.summary). The VM rows (\(inRig.joined(separator: ", "))) were measured inside scripts/kvm-rig: nested KVM in a QEMU-TCG virtual machine, so their absolute times are far slower than on hardware KVM; compare them with the host-in-rig row (the same workload run natively inside the rig), not with the host rows. In the rig: \(rigRuns(options)) start samples, density \(rigDensity(options)); its files (the baseline's scratch directory, VM disk images, container state) live on tmpfs, so its disk rows compare I/O paths over RAM, not storage.")
            let rigResults = runInRig(inRig, image: image, options: options, log: log)
            notes += rigResults.notes.map { "In the rig: \($0)" }
            for info in rigResults.systems {
                let id = info.id == "host" ? "host-in-rig" : info.id
                let label = info.id == "host" ? "native, inside the kvm-rig" : info.label
                systems.append(SystemInfo(id: id, label: label, environment: "kvm-rig", unavailable: info.unavailable))
                outcomes[id] = Dictionary(uniqueKeysWithValues: rigResults.metrics.compactMap { entry in
                    entry.results[info.id].map { (entry.metric.id, $0) }
                })
            }
        } else if direct && !options.insideRig {
            notes.append("This host has \(kvm.summary): every row ran directly on it.")
        }
        let metrics = Metric.all.map { metric in
            BenchResults.MetricResults(metric: metric, results: Dictionary(uniqueKeysWithValues: systems.map { system in
                let outcome = outcomes[system.id]?[metric.id]
                    ?? .notMeasured(reason: system.unavailable.map { "system unavailable: \($0)" } ?? "not recorded")
                return (system.id, outcome)
            }))
        }
        return BenchResults(created: ISO8601DateFormatter().string(from: Date()), host: host,
                            settings: settingsFacts(options), notes: notes, systems: systems, metrics: metrics)
    }

    /// The kernel both VM rows boot: Swiftlet's minimal `microvm-vmlinux` when it was
    /// built (`guest-images/build --microvm-kernel`), else Debian's cloud kernel — the
    /// order in which `swiftlet run --isolation microvm` picks its kernel from the same
    /// directory (Runtime's GuestFiles), so the peer boots what Swiftlet boots.
    static func guestKernel(_ guestImages: String) -> String {
        let minimal = "\(guestImages)/microvm-vmlinux"
        return access(minimal, R_OK) == 0 ? minimal : "\(guestImages)/vmlinuz"
    }

    static func label(_ id: String) -> String {
        switch id {
        case "host": return "native (no isolation)"
        case "namespace": return "swiftlet namespace"
        case "microvm": return "swiftlet microVM"
        case "qemu-microvm": return "QEMU -M microvm"
        default: return id
        }
    }

    private static func makeRunner(_ id: String, image: BenchImage, options: BenchOptions) -> Result<any SystemRunner, SwiftletError> {
        do {
            switch id {
            case "host":
                return .success(HostRunner(id: "host", label: label("host"), binary: image.binary, scratch: "\(options.work)/host-disk"))
            case "namespace", "microvm":
                return .success(SwiftletRunner(isolation: id, swiftlet: options.swiftlet, root: options.root))
            case "crun", "runc":
                return .success(try OCIRuntimeRunner(tool: id, rootfs: image.rootfs, directory: "\(options.work)/\(id)"))
            case "qemu-microvm":
                let kernel = guestKernel(options.guestImages), base = "\(options.guestImages)/initramfs.cpio.gz"
                for file in [kernel, base] where !FileManager.default.fileExists(atPath: file) {
                    throw SwiftletError("\(file) is missing (run guest-images/build)")
                }
                let directory = "\(options.work)/qemu"
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                return .success(try QEMURunner(kernel: kernel, initramfs: try image.initramfs(base: base, into: directory), directory: directory))
            default:
                throw SwiftletError("unknown system \(id)", code: .invalidArgument)
            }
        } catch let error as SwiftletError {
            return .failure(error)
        } catch {
            return .failure(SwiftletError("\(error)"))
        }
    }

    /// crun could not run a container here: measure runc instead, labelled with why.
    private static func fallbackToRunc(crunError: String, image: BenchImage, options: BenchOptions, network: NetworkPath?,
                                       log: @escaping @Sendable (String) -> Void) -> (SystemInfo, [String: Outcome], [String]) {
        let environment = options.insideRig ? "kvm-rig" : "host"
        let reason = crunError.replacingOccurrences(of: "\n", with: " ")
        log("crun cannot run here (\(reason)); falling back to runc")
        do {
            let runner = try OCIRuntimeRunner(tool: "runc", rootfs: image.rootfs, directory: "\(options.work)/runc",
                                              note: "fallback: crun failed: \(reason)")
            defer { runner.cleanUp() }
            try runner.prepare()
            let (results, notes) = SystemMeasurement(runner: runner, settings: options.settings, network: network, log: log).measure()
            return (SystemInfo(id: "runc", label: runner.label, environment: environment, unavailable: nil), results, notes)
        } catch {
            return (SystemInfo(id: "crun", label: "crun", environment: environment,
                               unavailable: "crun failed (\(reason)) and runc failed too: \(error)"), [:], [])
        }
    }

    /// Runs `swiftlet bench --inside-rig` for the VM rows plus a native baseline inside
    /// scripts/kvm-rig; on failure every VM row is unavailable with the rig's error.
    private static func runInRig(_ ids: [String], image: BenchImage, options: BenchOptions,
                                 log: @escaping @Sendable (String) -> Void) -> BenchResults {
        let json = "\(options.work)/rig-results.json"
        func failed(_ reason: String) -> BenchResults {
            BenchResults(created: "", host: [:], settings: [:], notes: [],
                         systems: ids.map { SystemInfo(id: $0, label: label($0), environment: "kvm-rig", unavailable: reason) },
                         metrics: [])
        }
        guard let rig = options.rig else {
            return failed("no hardware KVM here and scripts/kvm-rig was not found (pass --rig)")
        }
        // A rig VM has been seen to hang under nested emulation; a quick run takes about
        // two minutes in it, so ten is a hang.
        var arguments = [rig, "--mem", "6G", "--cpus", "2", "--timeout", options.quick ? "600" : "3600",
                         "--", options.benchExecutable, "bench", "--inside-rig",
                         "--swiftlet", options.swiftlet,
                         "--systems", (["host"] + ids).joined(separator: ","), "--json", json,
                         "--artifacts", "\(options.work)/image", "--work", "/run/swiftlet-bench-work",
                         "--root", "/run/swiftlet-bench-root", "--guest-images", options.guestImages,
                         "--runs", "\(rigRuns(options))", "--density", "\(rigDensity(options))"]
        if options.quick { arguments.append("--quick") }
        log("running \(ids.joined(separator: ", ")) inside scripts/kvm-rig")
        do {
            // A rig that did not finish (hung, locked up or panicked: kvm-rig says so) is run once more.
            var retried = false
            while true {
                let process = try Subprocess(arguments) { line in
                    if line.hasPrefix("bench: ") { log("rig: \(line.dropFirst(7))") }
                }
                let (status, _) = process.wait(timeout: 4000)
                if status == 0 {
                    return try JSONDecoder().decode(BenchResults.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
                }
                guard !retried, process.stderr.contains("kvm-rig: the rig VM did not finish") else {
                    return failed("the run inside scripts/kvm-rig failed (exit \(status)): \(process.diagnostics)")
                }
                retried = true
                log("the rig VM did not finish; running it once more")
            }
        } catch {
            return failed("the run inside scripts/kvm-rig failed: \(error)")
        }
    }

    /// Inside the rig every run of a VM row boots a nested guest under TCG (seconds each)
    /// and the rig has 2 vCPUs: fewer start samples with --quick (two: p50 is then their
    /// mean, p99 next to the slower), fewer concurrent guests.
    static func rigRuns(_ options: BenchOptions) -> Int {
        options.quick ? min(options.settings.runs, 2) : options.settings.runs
    }

    static func rigDensity(_ options: BenchOptions) -> Int {
        min(options.settings.density, options.quick ? 2 : 4)
    }

    private static func hostFacts(_ kvm: HostKVMKind) -> [String: String] {
        var facts = ["kvm": kvm.summary, "cpus": "\(sysconf(Int32(_SC_NPROCESSORS_ONLN)))"]
        facts["kernel"] = HostIdentity.kernelRelease
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let model = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
            facts["cpu"] = model.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        // Other work on the host skews every row: the load at the start says how much.
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            facts["load average at start"] = load.split(separator: " ").prefix(3).joined(separator: " ")
        }
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let total = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal") }) {
            facts["memory"] = total.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return facts
    }

    private static func settingsFacts(_ options: BenchOptions) -> [String: String] {
        let s = options.settings
        return ["mode": options.quick ? "quick" : "full", "runs": "\(s.runs)", "density": "\(s.density)",
                "memory instances": "\(s.memoryInstances)", "work runs": "\(s.workRuns)",
                "cpu kernel": "\(s.cpuPasses) passes of CRC-32 over 64 KiB", "memory copy": "2 × \(s.memoryMiB) MiB",
                "getpid calls": "\(s.syscalls)", "disk": "\(s.diskMiB) MiB sequential, \(s.diskOps) random 4 KiB ops",
                "network": "\(s.networkMiB) MiB stream, \(s.networkRoundTrips) round trips"]
    }
}
