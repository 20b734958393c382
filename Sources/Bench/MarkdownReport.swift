import Foundation

/// The `--report DIR` output: `DIR/report.md` (where it ran, systems, a results table
/// with ratios to the native baseline, one chart per metric, why cells are empty, the
/// settings) and `DIR/charts/<metric>.svg`, one `BarChart` per metric.
public enum MarkdownReport {
    /// The Markdown text; charts are referenced as `charts/<metric id>.svg`.
    public static func markdown(_ results: BenchResults) -> String {
        var out: [String] = ["# swiftlet bench: KVM microVMs vs namespaces", ""]
        out.append("Run \(results.created), \(results.settings["mode"] ?? "") mode.")
        out.append("")
        out.append("## Where it ran")
        out.append("")
        for note in results.notes { out += ["> \(note)", ""] }
        out += ["| host | |", "|---|---|"]
        for key in results.host.keys.sorted() { out.append("| \(key) | \(ReportFormatting.markdownCell(results.host[key] ?? "")) |") }
        out += ["", "## Systems", "", "| id | system | ran on | status |", "|---|---|---|---|"]
        for system in results.systems {
            let status = system.unavailable.map { "unavailable: \(ReportFormatting.markdownCell($0))" } ?? "measured"
            out.append("| \(system.id) | \(ReportFormatting.markdownCell(system.label)) | \(system.environment) | \(status) |")
        }
        out += ["", "## Results", "",
                "p50 (p50 / p99 for start and teardown); in brackets the ratio to the native baseline of the same environment (host, or host-in-rig for rows measured in the rig).", ""]
        out.append("| metric | unit | " + results.systems.map(\.id).joined(separator: " | ") + " |")
        out.append("|---|---|" + String(repeating: "---:|", count: results.systems.count))
        for entry in results.metrics {
            let cells = results.systems.map { system -> String in
                let cell = ReportFormatting.cell(entry.results[system.id], metric: entry.metric)
                guard let ratio = ReportFormatting.ratio(results, metric: entry.metric.id, system: system) else { return cell }
                return "\(cell) (×\(ReportFormatting.number(ratio)))"
            }
            out.append("| \(ReportFormatting.markdownCell(entry.metric.title)) | \(entry.metric.unit) | " + cells.joined(separator: " | ") + " |")
        }
        out += ["", "## Charts", ""]
        for entry in results.metrics {
            out += ["### \(entry.metric.title)", "", "![\(entry.metric.id)](charts/\(entry.metric.id).svg)", ""]
        }
        var missing: [String] = []
        for system in results.systems where system.unavailable == nil {
            for entry in results.metrics {
                if case .notMeasured(let reason) = entry.results[system.id] {
                    missing.append("- \(system.id), \(entry.metric.id): \(ReportFormatting.markdownCell(reason))")
                }
            }
        }
        for system in results.systems {
            if let reason = system.unavailable { missing.append("- \(system.id): unavailable: \(ReportFormatting.markdownCell(reason))") }
        }
        if !missing.isEmpty { out += ["## Not measured", ""] + missing + [""] }
        out += ["## Method", ""] + method + [""]
        out += ["## Settings", "", "| setting | value |", "|---|---|"]
        for key in results.settings.keys.sorted() { out.append("| \(key) | \(ReportFormatting.markdownCell(results.settings[key] ?? "")) |") }
        out.append("")
        return out.joined(separator: "\n")
    }

    /// How each metric is taken, for readers of the report.
    static let method = [
        "- One static C workload (`bench-workload`, gcc -O2 -static) in one OCI image runs on every system; results are its `BENCH key=value` lines.",
        "- Start: from launching the system's command (`swiftlet run --rm`, `runc run`, `qemu-system-x86_64`) to the workload's CLOCK_REALTIME at `main()` (first instruction), and to the command's exit (to exit).",
        "- Teardown: `swiftlet rm -f`, `runc delete --force`, or SIGKILL to QEMU on a running idle instance, until all of its host processes are gone.",
        "- Memory: PSS (`/proc/PID/smaps_rollup`) of every host process of an idle instance — container processes and monitor (`swiftlet-shim`), or the VMM with the guest RAM it touched; the attached CLI client is not counted. Density: N idle instances started at once; time until all printed `ready`, PSS per instance (shared pages are split among them).",
        "- CPU: a fixed bitwise CRC-32 over 64 KiB; memory bandwidth: best of 8 `memcpy` of a buffer (read + write bytes); syscalls: raw `getpid` loop.",
        "- Disk: sequential 1 MiB writes + fsync, then sequential reads after `POSIX_FADV_DONTNEED`, then random 4 KiB reads and writes (+ fdatasync), O_DIRECT where the filesystem supports it; on the rootfs (`/data`) and on a volume (`/vol`; the QEMU peer: a raw virtio-blk disk).",
        "- Network: the workload serves inside, the same binary on the host sends 1-byte round trips, then a stream. crun/runc: a veth pair from the host into the container's network namespace. Swiftlet namespace and microVM: the container's own `--network bridge` address on the host bridge `swiftlet0` (a veth pair, or a TAP device behind the microVM's virtio-net), the same host-side path for both; the other Swiftlet runs use `--network none`. The notes say which path each system used.",
    ]

    /// Writes report.md and the charts into `directory` (created if needed).
    public static func write(_ results: BenchResults, to directory: String) throws {
        let charts = "\(directory)/charts"
        try FileManager.default.createDirectory(atPath: charts, withIntermediateDirectories: true)
        for entry in results.metrics {
            let chart = BarChart(metric: entry.metric, systems: results.systems, results: entry.results)
            try Data(chart.svg().utf8).write(to: URL(fileURLWithPath: "\(charts)/\(entry.metric.id).svg"))
        }
        try Data(markdown(results).utf8).write(to: URL(fileURLWithPath: "\(directory)/report.md"))
    }

    /// The JSON document (`--json FILE`): `BenchResults`, pretty-printed, keys sorted.
    public static func json(_ results: BenchResults) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(results)
    }
}
