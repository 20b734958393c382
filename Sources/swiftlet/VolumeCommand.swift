import ArgumentParser
import Foundation
import Runtime

/// `swiftlet volume …`: named volumes that outlive containers.
struct VolumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage named volumes: create, ls, rm, inspect.",
        subcommands: [VolumeCreate.self, VolumeList.self, VolumeRemove.self, VolumeInspect.self])
}

struct VolumeCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var name: String

    func run() throws {
        try reportingErrors { print(try runtime.open().volumes.create(name).Name) }
    }
}

struct VolumeList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Print names only.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let volumes = try runtime.open().volumes.list()
            if !quiet { print("DRIVER    VOLUME NAME") }
            for volume in volumes { print(quiet ? volume.Name : "\(volume.Driver.padding(toLength: 10, withPad: " ", startingAt: 0))\(volume.Name)") }
        }
    }
}

struct VolumeRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove volumes not used by any container.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var names: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            for name in names {
                try runtime.removeVolume(name)
                print(name)
            }
        }
    }
}

struct VolumeInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print volumes as JSON.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var names: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            let volumes = try names.map { try runtime.volumes.inspect($0) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(volumes), as: UTF8.self))
        }
    }
}
