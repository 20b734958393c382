import ArgumentParser
import Runtime

/// The `swiftlet` command line: parse, call a module, print. Async at the root because
/// `image pull` and `push` are (the registry client is async-http-client).
@main
struct Swiftlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A KVM microVM monitor with a container layer.",
        version: SwiftletVersion.engine,
        subcommands: [KVMCheck.self, BootLauncher.self, ImageCommand.self, BenchCommand.self] + containerCommands
            + containerControlCommands + imageAliases + systemCommands
    )
}
