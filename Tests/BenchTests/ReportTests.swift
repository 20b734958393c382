import Bench
import ChildProcess
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// JSON shape, table, Markdown and SVG generation over a hand-made result set.
struct ReportTests {
    static let systems = [
        SystemInfo(id: "host", label: "native", environment: "host", unavailable: nil),
        SystemInfo(id: "namespace", label: "swiftlet namespace", environment: "host", unavailable: nil),
        SystemInfo(id: "microvm", label: "swiftlet microVM", environment: "kvm-rig", unavailable: "no <KVM> & \"rig\""),
    ]

    static func sample() throws -> BenchResults {
        let metrics = Metric.all.map { metric -> BenchResults.MetricResults in
            var results: [String: Outcome] = [
                "host": .measured(Summary([10.0, 20.0, 30.0])!),
                "namespace": metric.id == "tcp_throughput" ? .notMeasured(reason: "no veth here")
                    : .measured(Summary([20.0, 40.0, 60.0, 80.0])!),
            ]
            results["microvm"] = .notMeasured(reason: "system unavailable: no KVM")
            return BenchResults.MetricResults(metric: metric, results: results)
        }
        return BenchResults(created: "2026-11-29T00:00:00Z", host: ["kernel": "6.1"], settings: ["mode": "quick"],
                            notes: ["VM rows ran in the rig"], systems: systems, metrics: metrics)
    }

    @Test func metricIdsAreUniqueAndCoverTheIssue() {
        let ids = Metric.all.map(\.id)
        #expect(Set(ids).count == ids.count)
        for id in ["start_first_instruction", "start_to_exit", "teardown", "memory_pss", "density_start", "density_pss",
                   "cpu", "memory_bandwidth", "syscall_getpid", "disk_rootfs_seq_write", "disk_rootfs_seq_read",
                   "disk_rootfs_rand_read", "disk_rootfs_rand_write", "disk_volume_seq_write", "disk_volume_seq_read",
                   "disk_volume_rand_read", "disk_volume_rand_write", "tcp_throughput", "tcp_request_response"] {
            #expect(ids.contains(id), "missing metric \(id)")
        }
    }

    @Test func jsonHasEveryMetricWithUnitsAndSamples() throws {
        let data = try MarkdownReport.json(try Self.sample())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["format"] as? String == "swiftlet-bench/1")
        let metrics = try #require(object["metrics"] as? [[String: Any]])
        #expect(metrics.count == Metric.all.count)
        let start = try #require(metrics.first { ($0["metric"] as? [String: Any])?["id"] as? String == "start_first_instruction" })
        #expect((start["metric"] as? [String: Any])?["unit"] as? String == "ms")
        let results = try #require(start["results"] as? [String: [String: Any]])
        #expect(results["namespace"]?["status"] as? String == "measured")
        #expect(results["namespace"]?["p50"] as? Double == 50)
        #expect(results["namespace"]?["samples"] as? [Double] == [20, 40, 60, 80])
        #expect(results["microvm"]?["status"] as? String == "not measured")
        #expect(results["microvm"]?["reason"] as? String == "system unavailable: no KVM")
        let systems = try #require(object["systems"] as? [[String: Any]])
        #expect(systems.map { $0["id"] as? String } == ["host", "namespace", "microvm"])
        #expect(systems[2]["unavailable"] as? String == "no <KVM> & \"rig\"")
    }

    @Test func jsonRoundTrips() throws {
        let results = try Self.sample()
        let decoded = try JSONDecoder().decode(BenchResults.self, from: try MarkdownReport.json(results))
        #expect(decoded == results)
    }

    @Test func tableShowsP50AndP99AndReasons() throws {
        let table = ResultsTable.render(try Self.sample())
        let lines = table.split(separator: "\n")
        #expect(lines[0].contains("metric") && lines[0].contains("namespace") && lines[0].contains("microvm"))
        let start = try #require(lines.first { $0.hasPrefix("start_first_instruction (ms)") })
        #expect(start.contains("20.0 / 29.8"))  // host: p50 20, p99 = 20 + 0.98 * 10
        #expect(start.contains("50.0 / 79.4"))  // namespace: p50 50, p99 = 60 + 0.97 * 20
        let cpu = try #require(lines.first { $0.hasPrefix("cpu (ms)") })
        #expect(cpu.contains("50.0") && !cpu.contains("/"))
        #expect(table.contains("microvm: unavailable: no <KVM> & \"rig\""))
        #expect(table.contains("tcp_throughput: not measured: no veth here"))
        #expect(table.contains("VM rows ran in the rig"))
    }

    @Test func markdownHasTablesRatiosChartsAndReasons() throws {
        let markdown = MarkdownReport.markdown(try Self.sample())
        #expect(markdown.contains("> VM rows ran in the rig"))
        #expect(markdown.contains("| microvm | swiftlet microVM | kvm-rig | unavailable: no <KVM> & \"rig\" |"))
        // namespace cpu p50 50 vs host 20: ratio 2.5.
        #expect(markdown.contains("| CPU-bound kernel (fixed CRC-32 work) | ms | 20.0 | 50.0 (×2.50) | — |"))
        for metric in Metric.all { #expect(markdown.contains("(charts/\(metric.id).svg)")) }
        #expect(markdown.contains("- namespace, tcp_throughput: no veth here"))
    }

    @Test func svgHasOneBarPerMeasuredSystemAndEscapesText() throws {
        let results = try Self.sample()
        let entry = try #require(results.metrics.first { $0.metric.id == "start_first_instruction" })
        let svg = BarChart(metric: entry.metric, systems: results.systems, results: entry.results).svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<rect ").count - 1 == 3)  // background + two bars
        #expect(svg.contains("not measured: system unavailable: no KVM"))
        #expect(svg.contains("tick: p99"))
        // Host rows and rig rows are separate groups with their own scales.
        #expect(svg.contains(">on this host</text>") && svg.contains(">inside scripts/kvm-rig"))
        // The longest bar (namespace p99 79.4) spans the plot; the host bar is 20/79.4 of it.
        #expect(svg.contains(">50.0</text>") && svg.contains(">20.0</text>"))
        #expect(!svg.contains("<KVM>"))
        let parsed = try XMLDocument(xmlString: svg)
        #expect(parsed.rootElement()?.name == "svg")
    }

    @Test func writeCreatesReportAndOneChartPerMetric() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-report-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try MarkdownReport.write(try Self.sample(), to: directory)
        #expect(FileManager.default.fileExists(atPath: "\(directory)/report.md"))
        let charts = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/charts")
        #expect(Set(charts) == Set(Metric.all.map { "\($0.id).svg" }))
    }
}

/// The charts render: rsvg-convert (librsvg2-bin, installed by scripts/setup) turns each
/// into a PNG of the declared size.
struct ChartRenderingTests {
    @Test func rsvgConvertRendersAChart() throws {
        let candidates = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"]
        guard let rsvg = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("rsvgConvertRendersAChart: skipped, rsvg-convert is not installed (scripts/setup installs librsvg2-bin)")
            if ProcessInfo.processInfo.environment["SWIFTLET_REQUIRE_KVM_TESTS"] == "1" {
                Issue.record("rsvg-convert is missing; scripts/setup installs librsvg2-bin")
            }
            return
        }
        let results = try ReportTests.sample()
        let entry = try #require(results.metrics.first { $0.metric.id == "memory_bandwidth" })
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-svg-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let svg = directory.appendingPathComponent("chart.svg"), png = directory.appendingPathComponent("chart.png")
        try Data(BarChart(metric: entry.metric, systems: results.systems, results: entry.results).svg().utf8).write(to: svg)
        let conversion = try ChildProcess.run([rsvg, "-o", png.path, svg.path])
        #expect(conversion.status == 0, "\(conversion.stderr)")
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // IHDR: width and height, big-endian, at bytes 16..<24.
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 720)
    }
}
