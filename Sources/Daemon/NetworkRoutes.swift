import Foundation
import HostSystem
import Runtime

/// The network endpoints (moby's `api/server/router/network`): list (with the `name`,
/// `id`, `driver`, `type` and `label` filters), inspect, create (201 with the id), remove
/// (403 for the pre-defined networks and while containers run on it), connect and
/// disconnect (with the endpoint's aliases) and prune, in dockerd's shapes.
public enum NetworkRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/networks") { request, _ in
            let filters = try Filters(request.query["filters"])
            let resources = try await blocking {
                try engine.runtime.networks.all().filter { matches($0, filters) }.map {
                    NetworkResource(try engine.runtime.inspectNetwork($0.id))
                }
            }
            return try .json(resources)
        }
        router.add(.GET, "/networks/{id}") { _, parameters in
            try .json(NetworkResource(try await blocking { try engine.runtime.inspectNetwork(parameters["id"] ?? "") }))
        }
        router.add(.POST, "/networks/create") { request, _ in
            let body = try decode(CreateBody.self, request)
            let network = try await blocking { try engine.runtime.createNetwork(try body.request()) }
            return try .json(Created(Id: network.id), status: .created)
        }
        router.add(.DELETE, "/networks/{id}") { _, parameters in
            _ = try await blocking { try engine.runtime.removeNetwork(parameters["id"] ?? "") }
            return .noContent
        }
        router.add(.POST, "/networks/{id}/connect") { request, parameters in
            let body = try decode(ConnectBody.self, request)
            try await blocking {
                try engine.runtime.connect(body.Container ?? "", to: parameters["id"] ?? "", aliases: body.EndpointConfig?.Aliases ?? [])
            }
            return APIResponse()
        }
        router.add(.POST, "/networks/{id}/disconnect") { request, parameters in
            let body = try decode(ConnectBody.self, request)
            try await blocking { try engine.runtime.disconnect(body.Container ?? "", from: parameters["id"] ?? "") }
            return APIResponse()
        }
        router.add(.POST, "/networks/prune") { _, _ in
            try .json(Pruned(NetworksDeleted: await blocking { engine.runtime.pruneNetworks() }))
        }
    }

    /// Docker's network filters: `name` (substring), `id` (prefix), `driver`, `type`
    /// (`builtin` or `custom`), `label` (`key` or `key=value`).
    static func matches(_ network: NetworkDefinition, _ filters: Filters) -> Bool {
        filters.any("name") { network.name.contains($0) } && filters.any("id") { network.id.hasPrefix($0) }
            && filters.any("driver") { network.driver == $0 }
            && filters.any("type") { $0 == (network.isPredefined ? "builtin" : "custom") }
            && filters.any("label") { Filters.label($0, isIn: network.labels) }
    }

    private static func decode<Body: Decodable>(_ type: Body.Type, _ request: APIRequest) throws -> Body {
        do {
            return try JSONDecoder().decode(type, from: Data(request.body.readableBytesView))
        } catch {
            throw SwiftletError("invalid request body: \(error)", code: .invalidArgument)
        }
    }

    struct CreateBody: Decodable {
        struct IPAMBody: Decodable {
            struct Pool: Decodable {
                var Subnet: String?
                var Gateway: String?
            }

            var Driver: String?
            var Config: [Pool]?
        }

        var Name: String?
        var Driver: String?
        var Internal: Bool?
        var EnableIPv6: Bool?
        var IPAM: IPAMBody?
        var Labels: [String: String]?

        func request() throws -> NetworkStore.CreateRequest {
            guard let name = Name, !name.isEmpty else { throw SwiftletError("network name is required", code: .invalidArgument) }
            if let driver = Driver, !driver.isEmpty, driver != "bridge" {
                throw SwiftletError("plugin \"\(driver)\" not found", code: .notFound)
            }
            if EnableIPv6 == true {
                throw SwiftletError("IPv6 networks are not supported by Swiftlet yet", code: .notImplemented)
            }
            var request = NetworkStore.CreateRequest(name: name)
            let pools = IPAM?.Config ?? []
            if pools.count > 1 { throw SwiftletError("a Swiftlet network has one IPv4 pool, not \(pools.count)", code: .invalidArgument) }
            if let pool = pools.first {
                if let text = pool.Subnet, !text.isEmpty {
                    guard let subnet = IPv4Subnet(text) else { throw SwiftletError("invalid subnet \(text)", code: .invalidArgument) }
                    request.subnet = subnet
                }
                if let text = pool.Gateway, !text.isEmpty {
                    guard let gateway = IPv4Address(text) else { throw SwiftletError("invalid gateway \(text)", code: .invalidArgument) }
                    request.gateway = gateway
                }
            }
            request.internal = Internal ?? false
            request.labels = Labels ?? [:]
            return request
        }
    }

    struct Created: Encodable {
        var Id: String
        var Warning = ""
    }

    struct ConnectBody: Decodable {
        struct Endpoint: Decodable {
            var Aliases: [String]?
        }

        var Container: String?
        var EndpointConfig: Endpoint?
    }

    struct Pruned: Encodable {
        var NetworksDeleted: [String]
    }
}
