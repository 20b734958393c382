import Foundation
import Images
import HostSystem
import Runtime

/// The container endpoints (moby's `api/server/router/container`): so far the list,
/// `GET /containers/json` (`all`, `limit`, `filters`: id, name, label, status, exited,
/// network), in dockerd's shape (`docker ps`).
public enum ContainerRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/containers/json") { request, _ in
            let filters = try Filters(request.query["filters"])
            if let unknown = filters.values.keys.sorted().first(where: { !listFilters.contains($0) }) {
                throw SwiftletError("invalid filter '\(unknown)'", code: .invalidArgument)
            }
            // A status filter other than running looks at every container, as dockerd's.
            let all = request.flag("all") || filters.values["status"]?.contains { $0 != "running" } == true
                || filters.values["exited"] != nil
            let networks = engine.runtime.networks.all()
            var containers = try await blocking { engine.runtime.list(all: all) }
                .filter { matches($0, filters, networks: networks) }
                .sorted { $0.config.created > $1.config.created }
            if let limit = request.query["limit"].flatMap(Int.init), limit > 0 { containers = Array(containers.prefix(limit)) }
            return try .json(containers.map { Summary($0, now: Date()) })
        }
    }

    static let listFilters: Set<String> = ["id", "name", "label", "status", "exited", "network"]

    /// Whether a container passes every filter: each key's values are alternatives,
    /// except `label`'s, which must all match (moby's MatchKVList).
    static func matches(_ container: ContainerInfo, _ filters: Filters, networks: [NetworkDefinition]) -> Bool {
        let config = container.config, state = container.state
        let status = state.isPaused ? "paused" : state.status.rawValue
        let joined = config.networkEndpoints.compactMap { endpoint in networks.first { $0.id == endpoint.networkID } }
        return filters.any("id") { config.id.hasPrefix($0) }
            && filters.any("name") { config.name.contains($0.hasPrefix("/") ? String($0.dropFirst()) : $0) }
            && (filters.values["label"] ?? []).allSatisfy { Filters.label($0, isIn: config.labels ?? [:]) }
            && filters.any("status") { $0 == status }
            && filters.any("exited") { state.status == .exited && Int32($0) == state.exitCode }
            && filters.any("network") { wanted in joined.contains { $0.name == wanted || $0.id.hasPrefix(wanted) } }
    }

    struct Summary: Encodable {
        struct Network: Encodable { var NetworkMode: String }
        var Id: String
        var Names: [String]
        var Image: String
        var ImageID: String
        var Command: String
        var Created: Int
        /// moby's `types.Port`: published ports with IP and PublicPort, others without.
        struct Port: Encodable {
            var IP: String?
            var PrivatePort: UInt16
            var PublicPort: UInt16?
            var `Type`: String
        }
        var Ports: [Port]
        var Labels: [String: String] = [:]
        var State: String
        var Status: String
        var HostConfig: Network
        var Mounts: [String] = []

        init(_ container: ContainerInfo, now: Date) {
            let config = container.config, state = container.state
            Id = config.id
            Names = ["/\(config.name)"]
            Image = ImageReference.familiar(config.image)
            ImageID = config.imageID
            Command = Self.command(config.process.args)
            Created = Int(config.created.timeIntervalSince1970)
            State = state.isPaused ? "paused" : state.status.rawValue
            Status = Self.status(state, now: now)
            HostConfig = Network(NetworkMode: config.network?.description ?? "default")
            Labels = config.labels ?? [:]
            let published = state.network?.ports ?? []
            let unpublished = (config.ports ?? []).filter { binding in !published.contains { $0.portKey == binding.portKey } }
            Ports = published.map { Port(IP: $0.hostAddress, PrivatePort: $0.containerPort, PublicPort: $0.hostPort, Type: $0.proto.rawValue) }
                + unpublished.map { Port(PrivatePort: $0.containerPort, Type: $0.proto.rawValue) }
        }

        /// moby's list form of the command: arguments with a space in single quotes.
        static func command(_ args: [String]) -> String {
            guard let path = args.first else { return "" }
            return ([path] + args.dropFirst().map { $0.contains(" ") ? "'\($0)'" : $0 }).joined(separator: " ")
        }

        /// moby's `State.String()`: "Up 5 seconds", "Restarting (1) 2 seconds ago", "Exited (0) 3 seconds ago", "Created".
        static func status(_ state: ContainerState, now: Date) -> String {
            switch state.status {
            case .created: return "Created"
            case .running:
                return "Up \(humanDuration(now.timeIntervalSince(state.startedAt ?? now)))\(state.isPaused ? " (Paused)" : "")"
            case .restarting:
                return "Restarting (\(state.exitCode ?? 0)) \(humanDuration(now.timeIntervalSince(state.finishedAt ?? now))) ago"
            case .exited:
                let ago = state.finishedAt.map { " \(humanDuration(now.timeIntervalSince($0))) ago" } ?? ""
                return "Exited (\(state.exitCode ?? 0))\(ago)"
            }
        }
    }

    /// go-units' HumanDuration, which `docker ps` statuses use.
    static func humanDuration(_ seconds: Double) -> String {
        let s = Int(seconds)
        switch s {
        case ..<1: return "Less than a second"
        case 1: return "1 second"
        case ..<60: return "\(s) seconds"
        case ..<120: return "About a minute"
        case ..<3600: return "\(s / 60) minutes"
        case ..<7200: return "About an hour"
        case ..<(48 * 3600): return "\(s / 3600) hours"
        case ..<(7 * 24 * 3600 * 2): return "\(s / (24 * 3600)) days"
        case ..<(30 * 24 * 3600 * 3): return "\(s / (7 * 24 * 3600)) weeks"
        case ..<(365 * 24 * 3600 * 2): return "\(s / (30 * 24 * 3600)) months"
        default: return "\(s / (365 * 24 * 3600)) years"
        }
    }
}
