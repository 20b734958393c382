import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A network and the containers on it now (what `network inspect` shows as Containers).
public struct NetworkUsage: Sendable {
    public var network: NetworkDefinition
    /// Each running container on it, with its place there.
    public var containers: [(config: ContainerConfig, attachment: NetworkAttachment)]
}

/// `network create|rm|prune|connect|disconnect|inspect` (Docker's semantics: moby's
/// daemon/network.go): networks with running containers on them cannot be removed; a
/// running namespace container joins or leaves a network at once (a veth pair added
/// to or removed from its network namespace); a microVM container has one network
/// interface, fixed while it runs.
extension Runtime {
    public func createNetwork(_ request: NetworkStore.CreateRequest) throws -> NetworkDefinition {
        let network = try networks.create(request)
        recordNetworkEvent("create", network)
        return network
    }

    /// The network and its running containers.
    public func inspectNetwork(_ reference: String) throws -> NetworkUsage {
        let network = try networks.resolve(reference)
        var usage = NetworkUsage(network: network, containers: [])
        for info in list(all: false) {
            for attachment in info.state.attachments where attachment.network == network.id {
                usage.containers.append((info.config, attachment))
            }
        }
        return usage
    }

    /// `network rm`: refused for the pre-defined networks and while containers run on it.
    @discardableResult
    public func removeNetwork(_ reference: String) throws -> NetworkDefinition {
        let usage = try inspectNetwork(reference)
        let network = usage.network
        if network.isPredefined {
            throw SwiftletError("\(network.name) is a pre-defined network and cannot be removed", code: .permissionDenied)
        }
        if !usage.containers.isEmpty {
            throw SwiftletError("error while removing network: network \(network.name) id \(network.id) has active endpoints", code: .permissionDenied)
        }
        try BridgeNetwork(network, tableDirectory: networking.tableDirectory).remove()
        try networks.remove(network)
        recordNetworkEvent("destroy", network)
        return network
    }

    /// `network prune`: removes the created networks no container (in any state) is
    /// configured to join; their names.
    public func pruneNetworks() -> [String] {
        let used = Set(containers.all().flatMap { $0.networkEndpoints.map(\.networkID) })
        return networks.all().filter { !$0.isPredefined && !used.contains($0.id) }.compactMap { network in
            (try? removeNetwork(network.id))?.name
        }
    }

    /// `network connect NETWORK CONTAINER [--alias A]…`.
    public func connect(_ containerReference: String, to networkReference: String, aliases: [String] = []) throws {
        let network = try networks.resolve(networkReference)
        let found = try containers.find(containerReference)
        if network.id == NetworkDefinition.noneID {
            throw SwiftletError("container cannot be disconnected from host network or connected to host network", code: .permissionDenied)
        }
        if !aliases.isEmpty && network.isPredefined {
            throw SwiftletError("network-scoped alias is supported only for containers in user defined networks", code: .invalidArgument)
        }
        let state = try refreshedState(found)
        let running = state.isActive
        if found.isolation == .microvm && running {
            throw SwiftletError("cannot connect the running microVM container \(found.name): its one network interface is fixed while it runs; stop it first",
                                code: .conflict)
        }
        let endpoint = NetworkEndpoint(networkID: network.id, aliases: aliases.isEmpty ? nil : aliases)
        let config = try containers.changeConfig(found.id) { config, _ in
            var endpoints = config.networkEndpoints
            if endpoints.contains(where: { $0.networkID == network.id }) {
                throw SwiftletError("endpoint with name \(config.name) already exists in network \(network.name)", code: .permissionDenied)
            }
            if config.isolation == .microvm && !endpoints.isEmpty {
                throw SwiftletError("a microVM container has one network interface: disconnect \(config.name) from its network first",
                                    code: .conflict)
            }
            endpoints.append(endpoint)
            config.endpoints = endpoints
        }
        if running && state.status == .running, let pid = state.pid {
            do {
                try joinRunning(config, pid: pid, endpoint: endpoint)
            } catch {
                _ = try? containers.changeConfig(found.id) { config, _ in
                    config.endpoints = config.networkEndpoints.filter { $0.networkID != network.id }
                }
                throw error
            }
        }
        recordNetworkEvent("connect", network, container: config.id)
    }

    /// `network disconnect NETWORK CONTAINER`.
    public func disconnect(_ containerReference: String, from networkReference: String) throws {
        let network = try networks.resolve(networkReference)
        let found = try containers.find(containerReference)
        guard found.networkEndpoints.contains(where: { $0.networkID == network.id }) else {
            throw SwiftletError("container \(found.id) is not connected to network \(network.name)", code: .permissionDenied)
        }
        let state = try refreshedState(found)
        if found.isolation == .microvm && state.isActive {
            throw SwiftletError("cannot disconnect the running microVM container \(found.name): its one network interface is fixed while it runs; stop it first",
                                code: .conflict)
        }
        let config = try containers.changeConfig(found.id) { config, _ in
            config.endpoints = config.networkEndpoints.filter { $0.networkID != network.id }
        }
        if let attachment = state.attachments.first(where: { $0.network == network.id }) {
            if attachment.ports?.isEmpty == false {
                PacketFilter.unpublish(containerID: config.id)
                PortReservations.release(config.id)
            }
            if networking.detach(config, from: network.id, hostInterface: attachment.hostInterface) { try? networking.reloadDNS() }
            _ = try containers.bundle(config.id).updateState { state in
                state.attachments.removeAll { $0.network == network.id }
            }
        }
        recordNetworkEvent("disconnect", network, container: config.id)
    }

    /// Adds network `endpoint` to the running namespace container with init `pid`: the
    /// next free interface number, a veth pair into its namespace, its records.
    private func joinRunning(_ config: ContainerConfig, pid: Int32, endpoint: NetworkEndpoint) throws {
        let bundle = containers.bundle(config.id)
        let used = Set(try bundle.readState().attachments.map(\.index))
        let index = (0...).first { !used.contains($0) }!
        let attachment = try networking.attach(config, to: endpoint, index: index, publishing: false)
        do {
            try HostLinks.addVeth(attachment, namespaceOf: pid, configure: true)
            try networking.reloadDNS(if: [attachment])
            _ = try bundle.updateState { state in
                guard state.status == .running, state.pid == pid else {
                    throw SwiftletError("container \(config.id) stopped while joining the network", code: .conflict)
                }
                state.attachments.append(attachment)
            }
        } catch {
            if networking.detach(config, from: endpoint.networkID, hostInterface: attachment.hostInterface) { try? networking.reloadDNS() }
            throw error
        }
    }

    private func recordNetworkEvent(_ action: String, _ network: NetworkDefinition, container: String? = nil) {
        var attributes = ["name": network.name, "type": network.driver]
        if let container { attributes["container"] = container }
        EventJournal.record(root: root, type: "network", action: action, id: network.id, attributes: attributes)
    }
}
