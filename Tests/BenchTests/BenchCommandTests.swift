import Bench
import ChildProcess
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet bench` end to end on namespace containers (needs root for namespaces and
/// cgroups; no KVM): the JSON has every metric, each measured, and the report is written.
struct BenchCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let swiftlet: String = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftlet").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return repository.appendingPathComponent(".build/debug/swiftlet").path
    }()

    static func execute(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try ChildProcess.run([swiftlet] + arguments, timeout: 1800)
        #expect(!result.timedOut, "swiftlet \(arguments.joined(separator: " ")) did not finish within 30 minutes")
        return (result.status, result.stdout, result.stderr)
    }

    @Test func quickNamespaceBenchWritesEveryMetric() throws {
        guard getuid() == 0 else {
            print("quickNamespaceBenchWritesEveryMetric: skipped, namespace containers need root")
            return
        }
        #expect(FileManager.default.isExecutableFile(atPath: Self.swiftlet), "build swiftlet first (swift build)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-e2e-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let json = "\(directory)/out.json", report = "\(directory)/report"
        let result = try Self.execute(["bench", "--quick", "--runs", "2", "--systems", "namespace", "--json", json,
                                       "--report", report, "--root", "\(directory)/root"])
        #expect(result.status == 0, "swiftlet bench failed: \(result.stderr)")
        #expect(result.stdout.contains("start_first_instruction (ms)"))
        let results = try JSONDecoder().decode(BenchResults.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(results.systems.map(\.id) == ["namespace"])
        #expect(results.systems.first?.unavailable == nil)
        #expect(results.metrics.map(\.metric.id) == Metric.all.map(\.id))
        for metric in Metric.all {
            let outcome = results.outcome(metric.id, "namespace")
            #expect(outcome?.summary != nil, "\(metric.id): \(String(describing: outcome))")
        }
        #expect(results.outcome("start_first_instruction", "namespace")?.summary?.samples.count == 2)
        #expect(FileManager.default.fileExists(atPath: "\(report)/report.md"))
        for metric in Metric.all {
            #expect(FileManager.default.fileExists(atPath: "\(report)/charts/\(metric.id).svg"))
        }
        // The report again, from the JSON alone.
        let again = try Self.execute(["bench", "--from-json", json, "--report", "\(directory)/again"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == result.stdout.replacingOccurrences(of: report, with: "\(directory)/again"))
        let first = try String(contentsOfFile: "\(report)/report.md", encoding: .utf8)
        #expect(try String(contentsOfFile: "\(directory)/again/report.md", encoding: .utf8) == first)
    }

    @Test func unknownSystemIsAnError() throws {
        let result = try Self.execute(["bench", "--systems", "namespace,vmware"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("unknown system 'vmware'"))
    }
}
