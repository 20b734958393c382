import HostSystem
import ArgumentParser
import Foundation
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet stats`: docker's table of containers' resource use, redrawn once a second
/// until interrupted, or printed once with `--no-stream` (from two samples a second apart,
/// as dockerd takes them, so the CPU column has a span to measure).
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Display a live stream of containers' resource usage (a microVM's: its VMM's).")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Show all containers (default: running only).")
    var all = false
    @Flag(name: .customLong("no-stream"), help: "Print the first result only.")
    var noStream = false
    @Argument var containers: [String] = []

    func run() throws {
        let opened = try reportingErrorsReturning { try runtime.open() }
        let named = !containers.isEmpty
        func references() -> [String] {
            named ? containers : opened.list(all: all).map(\.config.id)
        }
        let clear = !noStream && isatty(1) != 0
        var previous: [String: ContainerStatistics] = [:]
        for reference in references() {
            previous[reference] = try reportingErrorsReturning { try opened.statistics(reference) }
        }
        while true {
            var pause = timespec(tv_sec: 1, tv_nsec: 0)
            nanosleep(&pause, nil)
            var rows = [["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]]
            var current: [String: ContainerStatistics] = [:]
            for reference in references() {
                // A container removed since the list was taken (not one the user named) is left out.
                guard var sample = named ? try reportingErrorsReturning({ try opened.statistics(reference) })
                                         : try? opened.statistics(reference) else { continue }
                if let before = previous[reference] {
                    sample.precpu = before.cpu
                    sample.preread = before.read
                }
                current[reference] = sample
                rows.append(Self.row(sample))
            }
            previous = current
            if clear { print("\u{1B}[2J\u{1B}[H", terminator: "") }
            printTable(rows)
            fflush(nil)
            if noStream { return }
        }
    }

    /// One row of docker's table (cli/command/container/formatter_stats.go).
    static func row(_ sample: ContainerStatistics) -> [String] {
        let memory = Double(sample.memoryWithoutCache), limit = Double(sample.memory.limit ?? 0)
        let received = sample.networks?.values.reduce(0) { $0 + $1.rxBytes } ?? 0
        let sent = sample.networks?.values.reduce(0) { $0 + $1.txBytes } ?? 0
        let entries = sample.blockIO.serviceBytes ?? []
        let read = entries.filter { $0.op.lowercased().hasPrefix("r") }.reduce(0) { $0 + $1.value }
        let written = entries.filter { $0.op.lowercased().hasPrefix("w") }.reduce(0) { $0 + $1.value }
        return [String(sample.id.prefix(12)), String(sample.name.dropFirst()), String(format: "%.2f%%", sample.cpuPercent),
                "\(binarySize(memory)) / \(binarySize(limit))", String(format: "%.2f%%", limit > 0 ? memory / limit * 100 : 0),
                "\(decimalSize(Double(received))) / \(decimalSize(Double(sent)))",
                "\(decimalSize(Double(read))) / \(decimalSize(Double(written)))", "\(sample.pids.current ?? 0)"]
    }

    /// go-units' BytesSize: 1024-based, 4 significant digits ("1.5MiB").
    static func binarySize(_ bytes: Double) -> String {
        scaled(bytes, base: 1024, units: ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], format: "%.4g")
    }

    /// go-units' HumanSizeWithPrecision(_, 3): 1000-based, 3 significant digits ("1.2kB").
    static func decimalSize(_ bytes: Double) -> String {
        scaled(bytes, base: 1000, units: ["B", "kB", "MB", "GB", "TB", "PB"], format: "%.3g")
    }

    private static func scaled(_ value: Double, base: Double, units: [String], format: String) -> String {
        var value = value, unit = 0
        while value >= base && unit < units.count - 1 {
            value /= base
            unit += 1
        }
        return String(format: format, value) + units[unit]
    }
}
