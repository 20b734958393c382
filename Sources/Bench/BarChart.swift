import Foundation

/// A horizontal bar chart of one metric as a standalone SVG 1.1 document (W3C SVG 1.1,
/// basic shapes and text only): one bar per system at its p50, a tick at its p99 when
/// that differs, the value written after the bar; systems without a value show why.
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

    public func svg() -> String {
        let plotWidth = BarChart.width - BarChart.labelWidth - 110
        let maximum = systems.compactMap { results[$0.id]?.summary }.map { Swift.max($0.p50, $0.p99) }.max() ?? 0
        let scale = maximum > 0 ? plotWidth / maximum : 0
        let height = BarChart.top + Double(systems.count) * (BarChart.barHeight + BarChart.gap) + 24
        let x0 = BarChart.labelWidth
        var parts: [String] = []
        parts.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(fmt(BarChart.width))" height="\##(fmt(height))" viewBox="0 0 \##(fmt(BarChart.width)) \##(fmt(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"##)
        parts.append(##"<rect width="100%" height="100%" fill="#ffffff"/>"##)
        parts.append(##"<text x="10" y="20" font-size="14" font-weight="bold">\##(ReportFormatting.xml(metric.title))</text>"##)
        let direction = metric.lowerIsBetter ? "lower is better" : "higher is better"
        parts.append(##"<text x="10" y="38" fill="#555555">\##(ReportFormatting.xml(metric.unit)), p50\##(hasP99 ? " (tick: p99)" : ""); \##(direction)</text>"##)
        parts.append(##"<line x1="\##(fmt(x0))" y1="\##(fmt(BarChart.top - 4))" x2="\##(fmt(x0))" y2="\##(fmt(height - 20))" stroke="#888888"/>"##)
        for (index, system) in systems.enumerated() {
            let y = BarChart.top + Double(index) * (BarChart.barHeight + BarChart.gap)
            let middle = y + BarChart.barHeight / 2 + 4
            let name = system.environment == "kvm-rig" && system.id != "host-in-rig" ? "\(system.id) (rig)" : system.id
            parts.append(##"<text x="\##(fmt(x0 - 8))" y="\##(fmt(middle))" text-anchor="end">\##(ReportFormatting.xml(name))</text>"##)
            guard let summary = results[system.id]?.summary else {
                let why: String
                if case .notMeasured(let reason) = results[system.id] { why = reason } else { why = "not recorded" }
                let short = why.count > 70 ? String(why.prefix(67)) + "…" : why
                parts.append(##"<text x="\##(fmt(x0 + 6))" y="\##(fmt(middle))" fill="#999999" font-style="italic">not measured: \##(ReportFormatting.xml(short))</text>"##)
                continue
            }
            let barWidth = Swift.max(1, summary.p50 * scale)
            let color = BarChart.colors[index % BarChart.colors.count]
            parts.append(##"<rect x="\##(fmt(x0))" y="\##(fmt(y))" width="\##(fmt(barWidth))" height="\##(fmt(BarChart.barHeight))" fill="\##(color)"/>"##)
            var end = x0 + barWidth
            if summary.samples.count > 1 && summary.p99 > summary.p50 && hasP99 {
                let tick = x0 + summary.p99 * scale
                parts.append(##"<line x1="\##(fmt(tick))" y1="\##(fmt(y - 2))" x2="\##(fmt(tick))" y2="\##(fmt(y + BarChart.barHeight + 2))" stroke="#222222" stroke-width="2"/>"##)
                end = tick
            }
            parts.append(##"<text x="\##(fmt(end + 6))" y="\##(fmt(middle))">\##(ReportFormatting.xml(ReportFormatting.number(summary.p50)))</text>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    private var hasP99: Bool { ReportFormatting.showsP99(metric) }

    private func fmt(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
