import HostSystem
import ArgumentParser
import Builder
import Foundation
import Images
import Runtime

/// `swiftlet build`: an image from a Dockerfile (`docker build` with the classic builder).
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a Dockerfile and a context directory.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("t"), .long], help: "Name the image REPOSITORY[:TAG] (repeatable).")
    var tag: [String] = []
    @Option(name: [.customShort("f"), .long], help: "The Dockerfile, relative to the context (default: CONTEXT/Dockerfile).")
    var file: String?
    @Option(name: .customLong("build-arg"), help: "A build argument NAME=VALUE (or NAME, taken from this environment; repeatable).")
    var buildArg: [String] = []
    @Option(help: "Build the stages up to this one.")
    var target: String?
    @Flag(help: "Run every step, reusing nothing from earlier builds.")
    var noCache = false
    @Option(help: "Where RUN executes: microvm or namespace.")
    var isolation = Isolation.microvm.rawValue
    @Option(help: "RUN's network: bridge, none or a user-defined network.")
    var network = "bridge"
    @Option(help: "Progress output: plain or tty (both print Docker's step lines).")
    var progress = "plain"
    @Flag(name: .shortAndLong, help: "Print only the image id.")
    var quiet = false
    @Argument(help: "The build context directory.")
    var context: String

    func run() throws {
        try reportingErrors {
            guard ["plain", "tty", "auto"].contains(progress) else {
                throw SwiftletError("invalid argument \"\(progress)\" for \"--progress\" flag: use plain or tty", code: .invalidArgument)
            }
            let tags = try tag.map { try ImageReference(parsing: $0) }
            let runtime = try runtime.open()
            let dockerfile = file ?? "Dockerfile"
            let staged = try BuildContext(root: context).stage(into: "\(runtime.root)/build-cache", dockerfile: dockerfile)
            defer { try? FileManager.default.removeItem(atPath: staged.directory) }
            var request = BuildRequest(context: staged.directory)
            request.dockerfile = staged.dockerfile
            request.tags = tags
            request.buildArgs = try Self.arguments(buildArg)
            request.target = target
            request.noCache = noCache
            request.isolation = try parsedIsolation(isolation)
            request.network = try parsedNetwork(network)
            let quiet = quiet
            let builder = try ImageBuilder(runtime: runtime, images: try ImageStore(root: runtime.root)) { text in
                guard !quiet else { return }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
            let image = try builder.build(request)
            if quiet { print(image.id) }
        }
    }

    /// `--build-arg` values: `NAME=VALUE`, or `NAME` with this process's value (dropped when unset).
    static func arguments(_ flags: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for flag in flags {
            if let equals = flag.firstIndex(of: "=") {
                result[String(flag[..<equals])] = String(flag[flag.index(after: equals)...])
            } else if let value = ProcessInfo.processInfo.environment[flag] {
                result[flag] = value
            }
        }
        return result
    }
}
