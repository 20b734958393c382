import ArgumentParser
import Foundation
import HostSystem
import Runtime

/// `swiftlet network …`: user-defined networks (Docker's `docker network`): each its own
/// bridge and subnet, isolated from the others, with an embedded DNS server for the
/// containers' names.
struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Manage networks: create, ls, inspect, rm, prune, connect, disconnect.",
        subcommands: [NetworkCreate.self, NetworkList.self, NetworkInspect.self, NetworkRemove.self, NetworkPrune.self,
                      NetworkConnect.self, NetworkDisconnect.self])
}

struct NetworkCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a network; prints its id.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Driver: bridge (the only one).")
    var driver = "bridge"
    @Option(help: "Subnet in CIDR form (default: the first free /24 of 10.89.0.0/16).")
    var subnet: String?
    @Option(help: "Gateway address, inside the subnet (default: its first address).")
    var gateway: String?
    @Flag(name: .customLong("internal"), help: "No way out: no NAT, nothing forwarded to other networks.")
    var isInternal = false
    @Option(help: "Set metadata (KEY=VALUE).")
    var label: [String] = []
    @Argument var name: String

    func run() throws {
        try reportingErrors {
            guard driver == "bridge" else {
                throw SwiftletError("plugin \"\(driver)\" not found: Swiftlet networks use the bridge driver", code: .notFound)
            }
            var request = NetworkStore.CreateRequest(name: name)
            request.subnet = try subnet.map { text in
                guard let subnet = IPv4Subnet(text) else {
                    throw SwiftletError("invalid subnet \(text): use a.b.c.d/n, n from 1 to 30, host bits zero", code: .invalidArgument)
                }
                return subnet
            }
            request.gateway = try gateway.map { text in
                guard let address = IPv4Address(text) else { throw SwiftletError("invalid gateway \(text)", code: .invalidArgument) }
                return address
            }
            request.internal = isInternal
            request.labels = parsedLabels(label)
            print(try runtime.open().createNetwork(request).id)
        }
    }
}

struct NetworkList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List networks.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Print ids only.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let networks = try runtime.open().networks.all()
            if !quiet { print("NETWORK ID     NAME" + String(repeating: " ", count: 16) + "DRIVER    SCOPE") }
            for network in networks {
                let id = String(network.id.prefix(12))
                print(quiet ? id : "\(id)   \(network.name.padding(toLength: 19, withPad: " ", startingAt: 0)) \(network.driver.padding(toLength: 9, withPad: " ", startingAt: 0)) local")
            }
        }
    }
}

struct NetworkInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Print networks as JSON (the Engine API's shape).")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var networks: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            let resources = try networks.map { NetworkResource(try runtime.inspectNetwork($0)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(resources), as: UTF8.self))
        }
    }
}

struct NetworkRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove networks no running container is on.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var networks: [String]

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            var failures: [String] = []
            for network in networks {
                do {
                    try runtime.removeNetwork(network)
                    print(network)
                } catch {
                    failures.append("\(error)")
                }
            }
            if !failures.isEmpty { throw SwiftletError(failures.joined(separator: "\n")) }
        }
    }
}

struct NetworkPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every created network no container uses.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation (Swiftlet never asks).")
    var force = false

    func run() throws {
        try reportingErrors {
            let removed = try runtime.open().pruneNetworks()
            if !removed.isEmpty { print("Deleted Networks:\n" + removed.joined(separator: "\n")) }
        }
    }
}

struct NetworkConnect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect", abstract: "Connect a container to a network (a running namespace container at once; a microVM has one network).")

    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Another name for the container on this network.")
    var alias: [String] = []
    @Argument var network: String
    @Argument var container: String

    func run() throws {
        try reportingErrors { try runtime.open().connect(container, to: network, aliases: alias) }
    }
}

struct NetworkDisconnect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Disconnect a container from a network.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var network: String
    @Argument var container: String

    func run() throws {
        try reportingErrors { try runtime.open().disconnect(container, from: network) }
    }
}
