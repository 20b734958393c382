import EmbeddedDNS
import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// Puts a container on its networks and takes it off them (Docker's endpoints): for each
/// network in its config, in order, the bridge made ready, an address reserved, and on
/// user-defined networks the container's names (its name, its short id, its aliases)
/// recorded for the embedded DNS server (`EmbeddedDNS`, the `swiftlet-dns` process, which
/// listens on each such network's gateway address and is told to reload). Published
/// ports go to the first network's address. The backend then makes the links (veth or
/// TAP) from the attachments.
struct ContainerNetworks: Sendable {
    let store: NetworkStore
    let tableDirectory: String

    init(store: NetworkStore, tableDirectory: String = BridgeNetwork.defaultTableDirectory) {
        self.store = store
        self.tableDirectory = tableDirectory
    }

    /// Where the record files of the embedded DNS server live.
    var dnsDirectory: String { "\(tableDirectory)/dns" }

    /// Connects the container to every network of its config; on failure nothing stays.
    func connect(_ config: ContainerConfig) throws -> [NetworkAttachment] {
        var attachments: [NetworkAttachment] = []
        do {
            for (index, endpoint) in config.networkEndpoints.enumerated() {
                let publishes = index == 0 && config.ports?.isEmpty == false
                var attachment = try attach(config, to: endpoint, index: index, publishing: publishes)
                if publishes, let bindings = config.ports {
                    let ports = try PortReservations.reserve(bindings, for: config.id)
                    attachment.ports = ports
                    PacketFilter.unpublish(containerID: config.id)  // a dead monitor's leftovers
                    try PacketFilter.publish(ports, to: attachment.address, containerID: config.id)
                }
                attachments.append(attachment)
            }
            try reloadDNS(if: attachments)
        } catch {
            disconnect(config, attachments: attachments)
            throw error
        }
        return attachments
    }

    /// One network's attachment: the bridge up, an address, the DNS records.
    func attach(_ config: ContainerConfig, to endpoint: NetworkEndpoint, index: Int, publishing: Bool) throws -> NetworkAttachment {
        let definition = try store.resolve(endpoint.networkID)
        let network = try BridgeNetwork(definition, tableDirectory: tableDirectory)
        try network.ensureUp(required: publishing)
        var attachment = try network.attach(id: config.id, index: index)
        if definition.hasEmbeddedDNS {
            attachment.resolver = network.gateway
            do {
                try record(config, endpoint: endpoint, attachment: attachment, on: definition)
            } catch {
                network.detach(id: config.id, hostInterface: attachment.hostInterface)
                throw error
            }
        }
        return attachment
    }

    /// Takes the container off every network it is on (`attachments`, from its state) or
    /// configured for: published ports, links, addresses, DNS records. Safe to call more
    /// than once and for containers that never connected.
    func disconnect(_ config: ContainerConfig, attachments: [NetworkAttachment]) {
        if config.ports?.isEmpty == false {
            PacketFilter.unpublish(containerID: config.id)
            PortReservations.release(config.id)
        }
        var networks: [(String, String)] = []
        for attachment in attachments where !networks.contains(where: { $0.1 == attachment.hostInterface }) {
            networks.append((attachment.network, attachment.hostInterface))
        }
        for (index, endpoint) in config.networkEndpoints.enumerated() where !networks.contains(where: { $0.0 == endpoint.networkID }) {
            networks.append((endpoint.networkID, NetworkAttachment.hostInterface(of: config.id, index: index)))
        }
        let recordsChanged = networks.map { detach(config, from: $0.0, hostInterface: $0.1) }.contains(true)
        if recordsChanged { try? reloadDNS() }
    }

    /// Takes the container off network `id`: its link, its address, its DNS records.
    /// Whether records changed (the DNS server then needs a reload).
    func detach(_ config: ContainerConfig, from id: String, hostInterface: String) -> Bool {
        guard let definition = try? store.resolve(id), let network = try? BridgeNetwork(definition, tableDirectory: tableDirectory) else {
            HostLinks.delete(hostInterface)  // a network gone meanwhile: its link at least
            return false
        }
        network.detach(id: config.id, hostInterface: hostInterface)
        guard definition.hasEmbeddedDNS else { return false }
        try? NetworkRecords.update(directory: dnsDirectory, networkID: id) { records in
            records?.containers.removeAll { $0.id == config.id }
        }
        return true
    }

    /// Adds the container's names on `definition` to the DNS records.
    private func record(_ config: ContainerConfig, endpoint: NetworkEndpoint, attachment: NetworkAttachment,
                        on definition: NetworkDefinition) throws {
        let names = [config.name, String(config.id.prefix(12))] + (endpoint.aliases ?? [])
        try NetworkRecords.update(directory: dnsDirectory, networkID: definition.id) { records in
            var updated = records ?? NetworkRecords(network: definition.name, gateway: attachment.gateway.description,
                                                    subnet: "\(IPv4Subnet(containing: attachment.address, prefix: attachment.prefix))",
                                                    containers: [], internal: definition.internal)
            updated.containers.removeAll { $0.id == config.id }
            updated.containers.append(NetworkRecords.Container(id: config.id, names: names, address: attachment.address.description))
            records = updated
        }
    }

    /// Tells the DNS server to reread its records (starting it if needed), when any of
    /// `attachments` has a resolver; always without arguments.
    func reloadDNS(if attachments: [NetworkAttachment]? = nil) throws {
        if let attachments, !attachments.contains(where: { $0.resolver != nil }) { return }
        try DNSControl.reload(directory: dnsDirectory, serverExecutable: InstallLayout.running().helper("swiftlet-dns"))
    }
}

extension ContainerConfig {
    /// The container's networks: the stored endpoints, else (configs written before
    /// user-defined networks) the bridge for `bridge`, none for `none`.
    public var networkEndpoints: [NetworkEndpoint] {
        if let endpoints { return endpoints }
        return network == .bridge ? [NetworkEndpoint(networkID: NetworkDefinition.bridgeID)] : []
    }
}
