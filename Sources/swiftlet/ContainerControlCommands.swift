import HostSystem
import ArgumentParser
import Foundation
import Runtime
import Units

/// Runs `body` for each container as Docker's CLI does for `pause`, `restart` and the
/// like: a failure is printed (`swiftlet: …`) and the others still run; the command then
/// exits 1. A success prints the container's name as given.
func forEachContainer(_ containers: [String], printing: Bool = true, _ body: (String) throws -> Void) throws {
    var failed = false
    for container in containers {
        do {
            try body(container)
            if printing { print(container) }
        } catch let error as SwiftletError {
            FileHandle.standardError.write(Data("swiftlet: \(error)\n".utf8))
            failed = true
        }
    }
    if failed { throw ExitCode(1) }
}

struct PauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Pause all processes within containers (the cgroup freezer; a microVM's whole VMM).")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var containers: [String]

    func run() throws {
        let opened = try reportingErrorsReturning { try runtime.open() }
        try forEachContainer(containers) { try opened.pause($0) }
    }
}

struct UnpauseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Unpause all processes within containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var containers: [String]

    func run() throws {
        let opened = try reportingErrorsReturning { try runtime.open() }
        try forEachContainer(containers) { try opened.unpause($0) }
    }
}

struct RenameCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var container: String
    @Argument var newName: String

    func run() throws {
        try reportingErrors { try runtime.open().changeName(container, to: newName) }
    }
}

struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart containers: stop (with a grace period), then start.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: "Seconds to wait before SIGKILL (or a duration: 1500ms, 1m).")
    var time = "10"
    @Argument var containers: [String]

    func run() throws {
        let (opened, timeout) = try reportingErrorsReturning {
            (try runtime.open(), DurationValue.seconds(try parsedOption(time, "-t, --time", DurationValue.parseTimeout)))
        }
        try forEachContainer(containers) { try opened.restart($0, timeout: timeout) }
    }
}

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Display the running processes of a container (namespace isolation).")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough, help: "ps options (default -ef).")
    var psOptions: [String] = []

    func run() throws {
        try reportingErrors {
            let arguments = psOptions.first == "--" ? Array(psOptions.dropFirst()) : psOptions
            let list = try runtime.open().top(container, psArguments: arguments)
            printTable([list.Titles] + list.Processes, minimumWidth: 20)
        }
    }
}

struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Update the resource limits and restart policy of containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("m"), .long], parsing: .unconditional, help: "Memory limit (e.g. 64m, 1.5g).")
    var memory: String?
    @Option(parsing: .unconditional, help: "Number of CPUs (fractional).")
    var cpus: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes (-1: no limit).")
    var pidsLimit: String?
    @Option(name: [.customShort("c"), .customLong("cpu-shares")], parsing: .unconditional, help: "CPU shares (relative weight).")
    var cpuShares: String?
    @Option(help: "Restart policy: no, on-failure[:max-retries], always or unless-stopped.")
    var restart: String?
    @Argument var containers: [String]

    func run() throws {
        let (opened, update) = try reportingErrorsReturning { () throws -> (Runtime, ResourceUpdate) in
            var update = ResourceUpdate()
            update.restartPolicy = try restart.map { try RestartPolicy(parsing: $0) }
            update.memory = try memory.flatMap { try parsedOption($0, "-m, --memory", MemoryLimit.parse) }
            update.cpus = try cpus.map { try parsedOption($0, "--cpus", CPUCount.parse) }
            // The runtime takes 0 for "no limit"; PidsLimit.parse says nil for it.
            update.pids = try pidsLimit.map { try parsedOption($0, "--pids-limit", PidsLimit.parse) ?? 0 }
            update.cpuShares = try cpuShares.map { text throws(SwiftletError) in
                guard let shares = Int(text), shares >= 0 else {
                    throw SwiftletError("invalid argument \"\(text)\" for \"-c, --cpu-shares\" flag: not a whole number", code: .invalidArgument)
                }
                return shares
            }
            guard !update.isEmpty else { throw SwiftletError("you must provide one or more flags when using this command") }
            return (try runtime.open(), update)
        }
        try forEachContainer(containers) { container in
            for warning in try opened.update(container, update) {
                FileHandle.standardError.write(Data("WARNING: \(warning)\n".utf8))
            }
        }
    }
}

/// Prints rows as Go's tabwriter does for the docker CLI: columns padded by 3 to at least
/// `minimumWidth`, the last one unpadded.
func printTable(_ rows: [[String]], minimumWidth: Int = 10) {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in
        max(minimumWidth, (rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0) + 3)
    }
    for row in rows {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        print(cells.joined())
    }
}

/// The container control commands, registered in `Swiftlet`.
let containerControlCommands: [any ParsableCommand.Type] = [
    PauseCommand.self, UnpauseCommand.self, RenameCommand.self, RestartCommand.self, TopCommand.self, UpdateCommand.self,
    StatsCommand.self,
]
