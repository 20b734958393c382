import Foundation
import HostSystem
import KVM
import VMLaunch
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet bench boot`: the VMM alone against QEMU's `-M microvm`, booting the same
/// kernel and initramfs (guest-images' `initramfs.cpio.gz`, whose /init prints a marker,
/// idles a second and powers off). Per VMM: launch to the marker, launch to exit, and the
/// VMM's own memory while the guest idles (RSS, PSS and private dirty memory of every
/// mapping other than guest RAM, what Firecracker calls VMM overhead), medians over the
/// runs. Where this host's KVM cannot run Linux guests it runs itself inside
/// scripts/kvm-rig (absolute times are then far slower; the ratio is what counts).
public enum BootBench {
    public struct Options: Sendable {
        public var runs = 5
        public var memoryMiB = 256
        public var cpus = 1
        /// swiftlet-vmm, the process `swiftlet boot` execs: the VMM itself.
        public var vmm: String
        public var guestImages: String
        public var rig: String?
        /// This program, re-run inside the rig.
        public var executable: String
        public var insideRig = false

        public init(vmm: String, guestImages: String, rig: String?, executable: String) {
            self.vmm = vmm
            self.guestImages = guestImages
            self.rig = rig
            self.executable = executable
        }
    }

    /// One VMM's medians (nil where no run gave the figure), or why it failed.
    public struct Row: Codable, Sendable {
        public var vmm: String
        public var runs = 0
        public var failed = 0
        public var toInitSeconds: Double?
        public var toExitSeconds: Double?
        public var rssKiB: Double?
        public var pssKiB: Double?
        public var privateDirtyKiB: Double?
        public var error: String?
    }

    static let marker = "swiftlet-initramfs: /init reached"

    /// Measures both VMMs here, or inside the rig when this host's KVM cannot boot Linux
    /// (then returns the rows the rig's run printed as JSON).
    public static func run(_ options: Options, log: (String) -> Void) throws -> (location: String, rows: [Row]) {
        if !options.insideRig && !HostKVM.detect().runsLinuxGuests {
            return try runInRig(options, log: log)
        }
        let kernel = "\(options.guestImages)/vmlinuz", initramfs = "\(options.guestImages)/initramfs.cpio.gz"
        for file in [kernel, initramfs, options.vmm] where !FileManager.default.fileExists(atPath: file) {
            throw SwiftletError("\(file) is missing (run guest-images/build and swift build -c release)", code: .notFound)
        }
        let cmdline = KernelCommandLine.unattended(initArguments: ["sleep", "1"]).description
        let commands: [(String, [String])] = [
            ("swiftlet", [options.vmm, "--kernel", kernel, "--initrd", initramfs, "--cpus", "\(options.cpus)",
                          "--memory", "\(options.memoryMiB)M", "--cmdline", cmdline]),
            ("qemu-microvm", ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host", "-smp", "\(options.cpus)",
                              "-m", "\(options.memoryMiB)M", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                              "-kernel", kernel, "-initrd", initramfs, "-append", cmdline, "-serial", "stdio"]),
        ]
        let rows = commands.map { vmm, command in
            log("booting \(vmm) \(options.runs) times")
            return summarize(vmm, (0..<options.runs).map { _ in Result { try bootOnce(command, memoryMiB: options.memoryMiB) } })
        }
        return (options.insideRig ? "inside scripts/kvm-rig (nested KVM on QEMU-TCG)" : "hardware KVM", rows)
    }

    private struct Sample {
        var toInit: Double
        var toExit: Double
        var memory: (rss: Int, pss: Int, privateDirty: Int)?
    }

    private static func bootOnce(_ command: [String], memoryMiB: Int) throws -> Sample {
        let process = try Subprocess(command, watch: marker)
        let seen = try process.waitForOrKill(marker, timeout: 180)
        // The guest idles at /init for a second: sample once its boot has settled.
        usleep(300_000)
        let memory = vmmMemoryKiB(process.pid, guestBytes: memoryMiB << 20)
        let (status, exited) = process.wait(timeout: 180)
        guard status == 0 else { throw SwiftletError("\(command[0]) exited \(status): \(process.diagnostics)") }
        return Sample(toInit: seen - process.launchedMonotonic, toExit: exited - process.launchedMonotonic, memory: memory)
    }

    /// RSS, PSS and private dirty memory (KiB) of a process's mappings other than guest
    /// RAM (those at least as large as the guest's memory), from /proc/PID/smaps.
    static func vmmMemoryKiB(_ pid: pid_t, guestBytes: Int) -> (rss: Int, pss: Int, privateDirty: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8) else { return nil }
        var totals = (rss: 0, pss: 0, privateDirty: 0)
        var skip = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":") {
                let bounds = range.split(separator: "-").compactMap { UInt64($0, radix: 16) }
                skip = bounds.count == 2 && bounds[1] - bounds[0] >= UInt64(guestBytes)
                continue
            }
            guard !skip, fields.count >= 2, let kib = Int(fields[1]) else { continue }
            switch fields[0] {
            case "Rss:": totals.rss += kib
            case "Pss:": totals.pss += kib
            case "Private_Dirty:": totals.privateDirty += kib
            default: break
            }
        }
        return totals
    }

    private static func summarize(_ vmm: String, _ results: [Result<Sample, any Error>]) -> Row {
        let samples = results.compactMap { try? $0.get() }
        var row = Row(vmm: vmm, runs: samples.count, failed: results.count - samples.count)
        guard !samples.isEmpty else {
            row.error = results.first.flatMap { result in
                if case .failure(let error) = result { return "\(error)" } else { return nil }
            } ?? "no runs"
            return row
        }
        func median(_ values: [Double]) -> Double? {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return nil }
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        row.toInitSeconds = median(samples.map(\.toInit))
        row.toExitSeconds = median(samples.map(\.toExit))
        row.rssKiB = median(samples.compactMap { $0.memory.map { Double($0.rss) } })
        row.pssKiB = median(samples.compactMap { $0.memory.map { Double($0.pss) } })
        row.privateDirtyKiB = median(samples.compactMap { $0.memory.map { Double($0.privateDirty) } })
        return row
    }

    /// Runs `swiftlet bench boot --inside-rig --json` in scripts/kvm-rig; its rows.
    private static func runInRig(_ options: Options, log: (String) -> Void) throws -> (location: String, rows: [Row]) {
        guard let rig = options.rig else {
            throw SwiftletError("no hardware KVM here and scripts/kvm-rig was not found (pass --rig)", code: .unavailable)
        }
        log("no hardware KVM here; running inside scripts/kvm-rig (nested, TCG)")
        let json = "/tmp/swiftlet-bench-boot-\(getpid()).json"
        defer { unlink(json) }
        let process = try Subprocess([rig, "--mem", "4G", "--cpus", "2", "--timeout", "1800", "--",
                                      options.executable, "bench", "boot", "--inside-rig", "--json", json,
                                      "--runs", "\(options.runs)", "--memory", "\(options.memoryMiB)", "--cpus", "\(options.cpus)",
                                      "--vmm", options.vmm, "--guest-images", options.guestImages])
        let (status, _) = process.wait(timeout: 2000)
        guard status == 0 else { throw SwiftletError("the run inside scripts/kvm-rig failed (exit \(status)): \(process.diagnostics)") }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        return (report.location, report.rows)
    }

    /// What `--json` writes.
    public struct Report: Codable, Sendable {
        /// Where the VMMs ran: hardware KVM, or inside the rig.
        public var location: String
        public var runs: Int
        public var cpus: Int
        public var memoryMiB: Int
        public var rows: [Row]

        public init(location: String, options: Options, rows: [Row]) {
            self.location = location
            runs = options.runs
            cpus = options.cpus
            memoryMiB = options.memoryMiB
            self.rows = rows
        }
    }

    /// The table: one line per VMM, then the boot-to-/init ratio.
    public static func render(_ report: Report) -> String {
        var lines = ["boot to /init, \(report.runs) runs each, \(report.cpus) vCPU, \(report.memoryMiB) MiB, \(report.location)",
                     "vmm             to /init p50   to exit p50    VMM RSS    VMM PSS  private dirty"]
        func mib(_ kib: Double?) -> String { kib.map { String(format: "%.1f MiB", $0 / 1024) } ?? "n/a" }
        for row in report.rows {
            if let error = row.error {
                lines.append("\(row.vmm.padding(toLength: 14, withPad: " ", startingAt: 0)) failed: \(error)")
                continue
            }
            lines.append(String(format: "%-14@ %10.0f ms %10.0f ms %10@ %10@ %14@", row.vmm as NSString,
                                (row.toInitSeconds ?? 0) * 1000, (row.toExitSeconds ?? 0) * 1000,
                                mib(row.rssKiB) as NSString, mib(row.pssKiB) as NSString, mib(row.privateDirtyKiB) as NSString))
        }
        if report.rows.count == 2, let ours = report.rows[0].toInitSeconds, let theirs = report.rows[1].toInitSeconds {
            lines.append(String(format: "swiftlet / qemu-microvm boot-to-init ratio: %.2f", ours / theirs))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
