/// A container's /etc/resolv.conf, made from the host's as Docker makes it for the
/// default bridge (moby libnetwork resolvconf): the host's `nameserver` lines except
/// loopback ones (127.x and ::1, unreachable from the container's own network
/// namespace), its `search` and `options` lines kept; when no nameserver remains,
/// Docker's defaults 8.8.8.8 and 8.8.4.4. On a user-defined network the only nameserver is
/// the embedded DNS server (`resolver`, the network's gateway; Docker's is 127.0.0.11),
/// which forwards what it does not know to the host's resolvers, with `options ndots:0`.
enum ResolvConf {
    static let hostPath = "/etc/resolv.conf"
    static let defaultNameservers = ["8.8.8.8", "8.8.4.4"]

    /// The host's /etc/resolv.conf ("" when it cannot be read).
    static func hostText() -> String {
        (try? String(contentsOfFile: hostPath, encoding: .utf8)) ?? ""
    }

    static func forContainer(host text: String, resolver: IPv4Address? = nil) -> String {
        var nameservers: [String] = []
        var others: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = fields.first else { continue }
            switch keyword {
            case "nameserver" where fields.count >= 2:
                let server = String(fields[1])
                if !server.hasPrefix("127.") && server != "::1" { nameservers.append(server) }
            case "search", "domain", "options":
                others.append(fields.joined(separator: " "))
            default:
                continue
            }
        }
        if let resolver {
            // As Docker's embedded DNS: names without dots are looked up as they are
            // first (the containers' names), not with the search domains appended.
            nameservers = [resolver.description]
            if !others.contains(where: { $0.hasPrefix("options") && $0.contains("ndots:") }) { others.append("options ndots:0") }
        } else if nameservers.isEmpty {
            nameservers = defaultNameservers
        }
        return (nameservers.map { "nameserver \($0)" } + others).joined(separator: "\n") + "\n"
    }
}
