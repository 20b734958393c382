import Foundation

/// Number formatting and baselines shared by the table, the Markdown report and the charts.
enum ReportFormatting {
    /// Three significant digits at most, no exponent: 1234 → "1234", 12.345 → "12.3", 0.01234 → "0.0123".
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        let magnitude = abs(value)
        if magnitude >= 100 || magnitude == 0 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        let decimals = min(6, 2 - Int(log10(magnitude).rounded(.down)))
        return String(format: "%.\(decimals)f", value)
    }

    /// The native baseline of a system: `host` for rows measured on the host, `host-in-rig`
    /// for rows measured inside scripts/kvm-rig.
    static func baseline(of system: SystemInfo) -> String {
        system.environment == "kvm-rig" ? "host-in-rig" : "host"
    }

    /// The system's p50 relative to its native baseline's, when both were measured and
    /// the system is not itself a baseline.
    static func ratio(_ results: BenchResults, metric: String, system: SystemInfo) -> Double? {
        let base = baseline(of: system)
        guard system.id != base, let value = results.outcome(metric, system.id)?.summary?.p50,
              let reference = results.outcome(metric, base)?.summary?.p50, reference != 0 else { return nil }
        return value / reference
    }

    /// Metrics whose table cell shows p50/p99 rather than p50 alone.
    static func showsP99(_ metric: Metric) -> Bool {
        metric.id.hasPrefix("start_") || metric.id == "teardown"
    }

    /// The table cell of one outcome.
    static func cell(_ outcome: Outcome?, metric: Metric) -> String {
        guard let summary = outcome?.summary else { return "—" }
        return showsP99(metric) && summary.samples.count > 1
            ? "\(number(summary.p50)) / \(number(summary.p99))" : number(summary.p50)
    }

    /// Escapes text for XML (SVG) and for Markdown table cells.
    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func markdownCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// The plain-text table `swiftlet bench` prints: one row per metric, one column per
/// system (p50; p50 / p99 for start and teardown), then why any cell is empty.
public enum ResultsTable {
    public static func render(_ results: BenchResults) -> String {
        let systems = results.systems
        let header = ["metric"] + systems.map(\.id)
        var rows: [[String]] = [header]
        for entry in results.metrics {
            let name = "\(entry.metric.id) (\(entry.metric.unit))"
            rows.append([name] + systems.map { ReportFormatting.cell(entry.results[$0.id], metric: entry.metric) })
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, text in
                column == 0 ? text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - text.count) + text
            }.joined(separator: "  ")
        }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        lines.append("")
        lines += results.notes
        for system in systems {
            if let reason = system.unavailable {
                lines.append("\(system.id): unavailable: \(reason)")
                continue
            }
            lines.append("\(system.id): \(system.label)")
            for entry in results.metrics {
                if case .notMeasured(let reason) = entry.results[system.id] {
                    lines.append("  \(entry.metric.id): not measured: \(reason)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
