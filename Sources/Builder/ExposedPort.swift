import HostSystem
import Units

/// An EXPOSE word (Dockerfile reference: "EXPOSE"): `80`, `80/udp`, `8000-8002/tcp`, as
/// Docker's `nat.ParsePortSpecs` reads it (a `host:` prefix ignored), into the
/// `ExposedPorts` keys `port/protocol`.
enum ExposedPort {
    static func keys(_ spec: String) throws -> [String] {
        let container = spec.split(separator: ":", omittingEmptySubsequences: false).last.map(String.init) ?? spec
        let parts = container.split(separator: "/", omittingEmptySubsequences: false)
        guard let portText = parts.first, !portText.isEmpty else {
            throw SwiftletError("invalid containerPort: \(spec)", code: .invalidArgument)
        }
        let proto = parts.count > 1 && !parts[1].isEmpty ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else {
            throw SwiftletError("invalid proto: \(parts[1])", code: .invalidArgument)
        }
        let range: PortRange
        do {
            range = try PortRange.parse(String(portText))
        } catch {
            throw SwiftletError("invalid containerPort: \(portText)", code: .invalidArgument)
        }
        return (range.first...range.last).map { "\($0)/\(proto)" }
    }
}
