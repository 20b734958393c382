import Foundation

/// A horizontal bar chart of one metric as a standalone SVG 1.1 document (W3C SVG 1.1,
/// basic shapes and text only): one bar per system at its p50, a tick at its p99 when
/// that differs, the value written after the bar; systems without a value show why.
/// Rows measured on the host and inside scripts/kvm-rig are drawn as two groups, each
/// with its own scale.
public struct BarChart {
    public let metric: Metric
    public let systems: [SystemInfo]
    public let results: [String: Outcome]

    public init(metric: Metric, systems: [SystemInfo], results: [String: Outcome]) {
        self.metric = metric
        self.systems = systems
        self.results = results
    }

    static let width = 720.0
    static let labelWidth = 190.0
    static let barHeight = 22.0
    static let gap = 10.0
    static let top = 52.0
    static let colors = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f"]

    /// The systems grouped by where they ran, in order; each group has its own scale,
    /// since rows measured in the rig (nested, emulated) are orders of magnitude slower.
    private var groups: [(environment: String, systems: [SystemInfo])] {
        var groups: [(environment: String, systems: [SystemInfo])] = []
        for system in systems {
            if let index = groups.firstIndex(where: { $0.environment == system.environment }) {
                groups[index].systems.append(system)
            } else {
                groups.append((system.environment, [system]))
            }
        }
        return groups
    }

    static func heading(_ environment: String) -> String {
        environment == "kvm-rig" ? "inside scripts/kvm-rig (nested KVM on QEMU-TCG; own scale)" : "on this host"
    }

    public func svg() -> String {
        let plotWidth = BarChart.width - BarChart.labelWidth - 110
        let groups = self.groups
        let headed = groups.count > 1
        let row = BarChart.barHeight + BarChart.gap
        let height = BarChart.top + Double(systems.count) * row + (headed ? Double(groups.count) * 20 : 0) + 14
        let x0 = BarChart.labelWidth
        var parts: [String] = []
        parts.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(fmt(BarChart.width))" height="\##(fmt(height))" viewBox="0 0 \##(fmt(BarChart.width)) \##(fmt(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"##)
        parts.append(##"<rect width="100%" height="100%" fill="#ffffff"/>"##)
        parts.append(##"<text x="10" y="20" font-size="14" font-weight="bold">\##(ReportFormatting.xml(metric.title))</text>"##)
        let direction = metric.lowerIsBetter ? "lower is better" : "higher is better"
        parts.append(##"<text x="10" y="38" fill="#555555">\##(ReportFormatting.xml(metric.unit)), p50\##(hasP99 ? " (tick: p99)" : ""); \##(direction)</text>"##)
        var y = BarChart.top
        var index = 0
        for group in groups {
            if headed {
                parts.append(##"<text x="10" y="\##(fmt(y + 10))" fill="#333333" font-style="italic">\##(ReportFormatting.xml(BarChart.heading(group.environment)))</text>"##)
                y += 20
            }
            let maximum = group.systems.compactMap { results[$0.id]?.summary }.map { Swift.max($0.p50, hasP99 ? $0.p99 : $0.p50) }.max() ?? 0
            let scale = maximum > 0 ? plotWidth / maximum : 0
            parts.append(##"<line x1="\##(fmt(x0))" y1="\##(fmt(y - 4))" x2="\##(fmt(x0))" y2="\##(fmt(y + Double(group.systems.count) * row - BarChart.gap + 4))" stroke="#888888"/>"##)
            for system in group.systems {
                parts += bar(system, y: y, scale: scale, color: BarChart.colors[index % BarChart.colors.count])
                y += row
                index += 1
            }
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    /// The label, bar, p99 tick and value of one system (or why it has none).
    private func bar(_ system: SystemInfo, y: Double, scale: Double, color: String) -> [String] {
        let x0 = BarChart.labelWidth
        let middle = y + BarChart.barHeight / 2 + 4
        var parts = [##"<text x="\##(fmt(x0 - 8))" y="\##(fmt(middle))" text-anchor="end">\##(ReportFormatting.xml(system.id))</text>"##]
        guard let summary = results[system.id]?.summary else {
            let why: String
            if case .notMeasured(let reason) = results[system.id] { why = reason } else { why = "not recorded" }
            let short = why.count > 70 ? String(why.prefix(67)) + "…" : why
            parts.append(##"<text x="\##(fmt(x0 + 6))" y="\##(fmt(middle))" fill="#999999" font-style="italic">not measured: \##(ReportFormatting.xml(short))</text>"##)
            return parts
        }
        let barWidth = Swift.max(1, summary.p50 * scale)
        parts.append(##"<rect x="\##(fmt(x0))" y="\##(fmt(y))" width="\##(fmt(barWidth))" height="\##(fmt(BarChart.barHeight))" fill="\##(color)"/>"##)
        var end = x0 + barWidth
        if summary.samples.count > 1 && summary.p99 > summary.p50 && hasP99 {
            let tick = x0 + summary.p99 * scale
            parts.append(##"<line x1="\##(fmt(tick))" y1="\##(fmt(y - 2))" x2="\##(fmt(tick))" y2="\##(fmt(y + BarChart.barHeight + 2))" stroke="#222222" stroke-width="2"/>"##)
            end = tick
        }
        parts.append(##"<text x="\##(fmt(end + 6))" y="\##(fmt(middle))">\##(ReportFormatting.xml(ReportFormatting.number(summary.p50)))</text>"##)
        return parts
    }

    private var hasP99: Bool { ReportFormatting.showsP99(metric) }

    private func fmt(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
