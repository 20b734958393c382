import HostSystem
import ArgumentParser
import Foundation
import Runtime
import Units
#if canImport(Glibc)
import Glibc
#endif

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop containers: SIGTERM, then SIGKILL after the grace period.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("t"), .long], parsing: .unconditional, help: "Seconds to wait before SIGKILL (or a duration: 1500ms, 1m).")
    var time = "10"
    @Argument var containers: [String]

    func run() throws {
        try reportingErrors {
            let timeout = DurationValue.seconds(try parsedOption(time, "-t, --time", DurationValue.parseTimeout))
            let runtime = try runtime.open()
            for container in containers {
                try runtime.stop(container, timeout: timeout)
                print(container)
            }
        }
    }
}

struct KillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("s"), .long], help: "Signal: name (KILL, SIGTERM) or number.")
    var signal = "KILL"
    @Argument var containers: [String]

    func run() throws {
        try reportingErrors {
            let number = try parsedOption(signal, "-s, --signal", SignalName.parse)
            let runtime = try runtime.open()
            for container in containers {
                try runtime.kill(container, signal: number)
                print(container)
            }
        }
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Kill and remove a running container.")
    var force = false
    @Argument var containers: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            for container in containers {
                try runtime.remove(container, force: force)
                print(container)
            }
        }
    }
}

struct WaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for containers to exit; print their exit codes.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var containers: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            for container in containers { print(try runtime.wait(container)) }
        }
    }
}

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a container's output.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Follow the output until the container exits.")
    var follow = false
    @Argument var container: String

    func run() throws {
        try reportingErrors { try runtime.open().logs(container, follow: follow) }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print containers' config and state as JSON.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var containers: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            let infos = try containers.map { InspectedContainer(try runtime.info($0)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(infos), as: UTF8.self))
        }
    }
}

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running container.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Keep STDIN open.")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY.")
    var tty = false
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable.")
    var env: [String] = []
    @Option(name: .shortAndLong, help: "User: name|uid[:group|gid].")
    var user: String?
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory.")
    var workdir: String?
    @Argument var container: String
    @Argument(parsing: .captureForPassthrough) var command: [String] = []

    func run() throws {
        try reportingErrors {
            var options = ExecOptions(command: command.first == "--" ? Array(command.dropFirst()) : command)
            options.env = env
            options.user = user
            options.workingDir = workdir
            options.interactive = interactive
            options.tty = tty
            let code = try runtime.open().exec(container, options)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct PsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Show all containers (default: running only).")
    var all = false
    @Flag(name: .shortAndLong, help: "Print ids only.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let infos = try runtime.open().list(all: all)
            if quiet {
                infos.forEach { print($0.config.id.prefix(12)) }
                return
            }
            var rows = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"]]
            for info in infos {
                var command = info.config.process.args.joined(separator: " ")
                if command.count > 20 { command = String(command.prefix(19)) + "…" }
                rows.append([String(info.config.id.prefix(12)), info.config.image, "\"\(command)\"",
                             Self.ago(info.config.created) + " ago", Self.status(info.state), info.config.name])
            }
            let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $1.padding(toLength: widths[$0] + 3, withPad: " ", startingAt: 0) }
                    .joined().trimmingCharacters(in: .whitespaces))
            }
        }
    }

    static func status(_ state: ContainerState) -> String {
        switch state.status {
        case .created: return "Created"
        case .running: return "Up " + ago(state.startedAt ?? Date()) + (state.isPaused ? " (Paused)" : "")
        case .restarting: return "Restarting (\(state.exitCode ?? 0)) \(ago(state.finishedAt ?? Date())) ago"
        case .exited: return "Exited (\(state.exitCode ?? 0)) \(ago(state.finishedAt ?? Date())) ago"
        }
    }

    static func ago(_ date: Date) -> String {
        let seconds = Int(-date.timeIntervalSinceNow)
        switch seconds {
        case ..<60: return "\(max(seconds, 1)) second\(seconds > 1 ? "s" : "")"
        case ..<3600: return "\(seconds / 60) minute\(seconds >= 120 ? "s" : "")"
        case ..<86400: return "\(seconds / 3600) hour\(seconds >= 7200 ? "s" : "")"
        default: return "\(seconds / 86400) day\(seconds >= 172_800 ? "s" : "")"
        }
    }
}

/// The container and volume commands, registered in `Swiftlet`.
let containerCommands: [any ParsableCommand.Type] = [
    RunCommand.self, CreateCommand.self, StartCommand.self, StopCommand.self, KillCommand.self,
    RemoveCommand.self, PsCommand.self, LogsCommand.self, ExecCommand.self, InspectCommand.self,
    WaitCommand.self, VolumeCommand.self, NetworkCommand.self, PortCommand.self, CommitCommand.self, DiffCommand.self, ExportCommand.self, BuildCommand.self, CopyCommand.self,
]
