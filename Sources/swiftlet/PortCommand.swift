import ArgumentParser
import Foundation
import HostSystem
import Runtime

/// `swiftlet port CONTAINER [PORT[/PROTO]]`: a running container's published ports in
/// `docker port`'s format (`80/tcp -> 0.0.0.0:32768`; with a port, only the host
/// endpoints).
struct PortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List a container's published ports.")

    @OptionGroup var runtime: RuntimeOptions
    @Argument var container: String
    @Argument(help: "A container port, PORT or PORT/PROTO (tcp by default).") var port: String?

    func run() throws {
        try reportingErrors {
            let info = try runtime.open().info(container)
            let published = (info.state.network?.ports ?? []).sorted { ($0.containerPort, $0.proto.rawValue) < ($1.containerPort, $1.proto.rawValue) }
            guard let port else {
                published.forEach { print("\($0.portKey) -> \($0.hostEndpoint)") }
                return
            }
            let key = port.contains("/") ? port : "\(port)/tcp"
            guard let parsed = try? PortBinding.parse(key), parsed.count == 1, parsed[0].portKey == key.lowercased() else {
                throw SwiftletError("invalid port '\(port)': expected PORT or PORT/tcp|udp", code: .invalidArgument)
            }
            let matching = published.filter { $0.portKey == parsed[0].portKey }
            guard !matching.isEmpty else {
                throw SwiftletError("No public port '\(key)' published for \(container)", code: .notFound)
            }
            matching.forEach { print($0.hostEndpoint) }
        }
    }
}

/// What `swiftlet inspect` prints for a container: its config and state, and Docker's
/// `NetworkSettings.Ports` map (`80/tcp` → host bindings, null when not published now).
struct InspectedContainer: Encodable {
    /// Docker's NetworkSettings subset shown here.
    struct Settings: Encodable {
        var Ports: [String: [PortMap.HostBinding]?]
    }

    var config: ContainerConfig
    var state: ContainerState
    var NetworkSettings: Settings

    init(_ info: ContainerInfo) {
        config = info.config
        state = info.state
        self.NetworkSettings = Settings(Ports: PortMap.ports(configured: info.config.ports ?? [], published: info.state.network?.ports ?? []))
    }
}
