import ArgumentParser
import Bench
import Foundation
import Runtime
import Images

/// `swiftlet bench`: the benchmarks. `swiftlet bench [suite] …` is the container suite (the
/// default subcommand, so `swiftlet bench --quick` runs it), `swiftlet bench boot` the VMMs
/// alone.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the container suite (default) and the VMM boot comparison.",
        subcommands: [BenchSuiteCommand.self, BenchBootCommand.self], defaultSubcommand: BenchSuiteCommand.self)

    /// `relative` below the first ancestor of the executable's or working directory that has it.
    static func find(_ relative: String, from executable: String) -> String? {
        for start in [URL(fileURLWithPath: executable).deletingLastPathComponent().path, FileManager.default.currentDirectoryPath] {
            var directory = URL(fileURLWithPath: start)
            while directory.path != "/" {
                let candidate = directory.appendingPathComponent(relative).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }
}

/// `swiftlet bench suite`: KVM microVM containers vs namespace containers vs peers, on one image.
struct BenchSuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Benchmark microVM containers, namespace containers and peers (QEMU -M microvm, crun/runc) on one image.")

    @Flag(help: "The reduced set (fewer runs, smaller workloads; under two minutes).")
    var quick = false
    @Option(help: "Samples of the start-latency metrics (default 20, 5 with --quick).")
    var runs: Int?
    @Option(help: "Write every metric for every system as JSON to this file.")
    var json: String?
    @Option(help: "Write report.md and one SVG chart per metric into this directory.")
    var report: String?
    @Option(help: "Comma-separated systems: \(BenchSuite.systemIDs.joined(separator: ",")) (default: \(BenchSuite.defaultSystems.joined(separator: ","))).")
    var systems: String?
    @Option(help: "State root for the bench image and containers (default: $SWIFTLET_ROOT or /var/lib/swiftlet).")
    var root: String?
    @Option(name: .customLong("from-json"), help: "Measure nothing: print the table and write --report from an earlier --json file.")
    var fromJSON: String?
    @Option(help: "The swiftlet executable whose containers are measured (default: this one).")
    var swiftlet: String?
    @Option(help: "guest-images/out (default: $SWIFTLET_GUEST_IMAGES, else found above the executable or the working directory).")
    var guestImages: String?
    @Option(help: "scripts/kvm-rig, for the VM rows on hosts without hardware KVM (default: found like --guest-images).")
    var rig: String?
    @Option(help: .hidden) var density: Int?
    @Option(help: .hidden) var work: String?
    @Option(help: .hidden) var artifacts: String?
    @Flag(help: .hidden) var insideRig = false

    func validate() throws {
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let density, density < 1 { throw ValidationError("--density must be at least 1") }
        for id in selectedSystems where !BenchSuite.systemIDs.contains(id) {
            throw ValidationError("unknown system '\(id)': choose from \(BenchSuite.systemIDs.joined(separator: ", "))")
        }
        if selectedSystems.isEmpty { throw ValidationError("--systems lists no system") }
    }

    private var selectedSystems: [String] {
        systems.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? BenchSuite.defaultSystems
    }

    func run() throws {
        var settings = quick ? BenchSettings.quick : BenchSettings.full
        if let runs { settings.runs = runs }
        if let density { settings.density = density }
        let executable = InstallLayout.running().executable
        let work = self.work ?? "/tmp/swiftlet-bench-\(getpid())"
        let options = BenchOptions(
            settings: settings, quick: quick, systems: selectedSystems, swiftlet: swiftlet ?? executable, benchExecutable: executable,
            root: ContentStore.defaultRoot(root), work: work,
            guestImages: guestImages ?? ProcessInfo.processInfo.environment["SWIFTLET_GUEST_IMAGES"]
                ?? BenchCommand.find("guest-images/out", from: executable) ?? "guest-images/out",
            rig: rig ?? BenchCommand.find("scripts/kvm-rig", from: executable), insideRig: insideRig, artifacts: artifacts)
        // The swiftlet runs measured boot from the same guest images as the QEMU peer.
        setenv("SWIFTLET_GUEST_IMAGES", options.guestImages, 1)
        defer { if self.work == nil { try? FileManager.default.removeItem(atPath: work) } }
        let results: BenchResults
        do {
            if let fromJSON {
                results = try JSONDecoder().decode(BenchResults.self, from: Data(contentsOf: URL(fileURLWithPath: fromJSON)))
            } else {
                results = try BenchSuite.run(options) { line in
                    FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
                }
            }
        } catch {
            FileHandle.standardError.write(Data("swiftlet bench: \(error)\n".utf8))
            throw ExitCode(1)
        }
        print(ResultsTable.render(results), terminator: "")
        if let json {
            try MarkdownReport.json(results).write(to: URL(fileURLWithPath: json))
        }
        if let report {
            try MarkdownReport.write(results, to: report)
            print("report: \(report)/report.md")
        }
    }
}
