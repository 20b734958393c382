import ArgumentParser

/// The `swiftlet` command line: parse, call a module, print.
@main
struct Swiftlet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A KVM microVM monitor with a container layer.",
        subcommands: [KVMCheck.self, BootLauncher.self, ImageCommand.self, BenchCommand.self] + containerCommands
    )
}
