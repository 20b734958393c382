import ChildProcess
import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The host's packet filter rules for the bridge network, made with `iptables` (on
/// Debian 12 iptables-nft: the same `ip filter`/`ip nat` tables dockerd writes, so both
/// sets of rules coexist; a separate nftables table could not override dockerd's FORWARD
/// DROP policy, since a packet must be accepted by every base chain). Swiftlet keeps its
/// rules in its own chains, reached by one jump each from the built-in chains (FORWARD's
/// at the top, as DOCKER-USER's), and never flushes or reorders anyone else's rules:
///
/// - `filter SWIFTLET-FORWARD`: first a jump to `SWIFTLET-ISOLATION`, where what comes
///   from one Swiftlet bridge and would leave through another is dropped (through
///   `SWIFTLET-ISOLATION-2`), and everything crossing an internal network's bridge;
///   then, per bridge, what leaves it, replies to it, and connections to published
///   ports (DNATed) are accepted;
/// - `nat SWIFTLET-POSTROUTING`: the bridge's subnet masqueraded out of any other
///   interface (outbound NAT); connections to a published port from loopback or from a
///   container (hairpin) masqueraded to the bridge, so the replies come back through the host;
/// - `nat SWIFTLET-DNAT`, jumped to from PREROUTING and OUTPUT for local destinations: one
///   DNAT rule per published port, commented `swiftlet:ID` so the container's rules are
///   found and removed by any process (the monitor at stop, `rm`, a clean-up after a dead
///   monitor) without state of their own.
///
/// Loopback reaches published ports without a userland proxy: OUTPUT's DNAT plus
/// `route_localnet` on the bridge (what dockerd does with `userland-proxy=false`), so no
/// process per port stays resident and the container sees every connection.
enum PacketFilter {
    static let forwardChain = "SWIFTLET-FORWARD"
    static let postroutingChain = "SWIFTLET-POSTROUTING"
    static let dnatChain = "SWIFTLET-DNAT"
    static let isolationChain = "SWIFTLET-ISOLATION"
    static let otherBridgesChain = "SWIFTLET-ISOLATION-2"

    /// The comment marking a container's rules.
    static func mark(_ id: String) -> String { "swiftlet:\(id.prefix(12))" }

    /// Makes sure forwarding is on and the bridge's chains, jumps and rules exist; each
    /// missing piece is added, present ones are left alone (idempotent). A single check
    /// when everything is in place; the rest under the bridge lock. An `internal`
    /// bridge gets no NAT and forwards nothing to or from other interfaces.
    static func ensureBridgeRules(bridge: String, subnet: IPv4Subnet, internal: Bool = false) throws {
        try writeSetting("/proc/sys/net/ipv4/ip_forward", "1")
        try writeSetting("/proc/sys/net/ipv4/conf/\(bridge)/route_localnet", "1")
        let rules = bridgeRules(bridge: bridge, subnet: subnet, internal: `internal`)
        let jumps: [(table: String, chain: String, rule: [String], first: Bool)] = [
            ("filter", forwardChain, ["-j", isolationChain], true),
            ("filter", "FORWARD", ["-j", forwardChain], true),
            ("nat", "POSTROUTING", ["-j", postroutingChain], false),
            ("nat", "PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", dnatChain], false),
            ("nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", dnatChain], false),
        ]
        // Every jump and the bridge's first rule present means the rest was made (it comes first).
        if try jumps.allSatisfy({ try has($0.table, $0.chain, $0.rule) }), try has(rules[0].table, rules[0].chain, rules[0].rule) {
            return
        }
        try HostLinks.withBridgeLock {
            for (table, chain) in [("filter", forwardChain), ("filter", isolationChain), ("filter", otherBridgesChain),
                                   ("nat", postroutingChain), ("nat", dnatChain)] {
                if try iptables(["-t", table, "-S", chain], what: nil) != 0 { try iptables(["-t", table, "-N", chain]) }
            }
            let shared: [(table: String, chain: String, rule: [String])] = [
                ("filter", isolationChain, ["-m", "conntrack", "--ctstate", "DNAT", "-j", "RETURN"]),
                ("filter", otherBridgesChain, ["-o", BridgeNetwork.defaultBridge, "-j", "DROP"]),
                ("filter", otherBridgesChain, ["-o", "swbr-+", "-j", "DROP"]),
            ]
            for (table, chain, rule) in shared + rules.reversed() {
                if try !has(table, chain, rule) { try iptables(["-t", table, "-A", chain] + rule) }
            }
            for (table, chain, rule, first) in jumps {
                if try !has(table, chain, rule) { try iptables(["-t", table] + (first ? ["-I", chain, "1"] : ["-A", chain]) + rule) }
            }
        }
    }

    /// The rules of one bridge, the one checked first listed first (and added last):
    /// isolation from the other Swiftlet bridges (Docker's DOCKER-ISOLATION stages: what
    /// comes in from this bridge may not leave through another; connections to published
    /// ports are exempt), what may be forwarded, and NAT.
    static func bridgeRules(bridge: String, subnet: IPv4Subnet, internal: Bool) -> [(table: String, chain: String, rule: [String])] {
        if `internal` {
            return [
                ("filter", isolationChain, ["-i", bridge, "!", "-o", bridge, "-j", "DROP"]),
                ("filter", isolationChain, ["!", "-i", bridge, "-o", bridge, "-j", "DROP"]),
                ("filter", forwardChain, ["-i", bridge, "-o", bridge, "-j", "ACCEPT"]),
            ]
        }
        return [
            ("filter", isolationChain, ["-i", bridge, "!", "-o", bridge, "-j", otherBridgesChain]),
            ("filter", forwardChain, ["-i", bridge, "-j", "ACCEPT"]),
            ("filter", forwardChain, ["-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]),
            ("filter", forwardChain, ["-o", bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"]),
            ("nat", postroutingChain, ["-s", "\(subnet)", "!", "-o", bridge, "-j", "MASQUERADE"]),
            ("nat", postroutingChain, ["-s", "127.0.0.0/8", "-o", bridge, "-j", "MASQUERADE"]),
            ("nat", postroutingChain, ["-s", "\(subnet)", "-o", bridge, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"]),
        ]
    }

    /// Removes every rule naming `bridge` or `subnet` from Swiftlet's chains (`network
    /// rm`); errors are ignored, as for `unpublish`.
    static func removeBridgeRules(bridge: String, subnet: IPv4Subnet) {
        for (table, chain) in [("filter", isolationChain), ("filter", forwardChain), ("nat", postroutingChain)] {
            guard let listing = try? ChildProcess.run([try tool(), "-w", "-t", table, "-S", chain]), listing.status == 0 else {
                continue
            }
            for line in listing.stdout.split(separator: "\n") where line.hasPrefix("-A \(chain) ") {
                let rule = line.dropFirst(3).split(separator: " ").map(String.init)
                guard rule.contains(bridge) || rule.contains("\(subnet)") else { continue }
                _ = try? iptables(["-t", table, "-D"] + rule, what: nil)
            }
        }
    }

    /// DNAT rules sending each published port to the container at `address`.
    static func publish(_ ports: [PublishedPort], to address: IPv4Address, containerID id: String) throws {
        for port in ports {
            try iptables(["-t", "nat", "-A", dnatChain] + dnatRule(port, to: address, containerID: id))
        }
    }

    /// Removes the container's DNAT rules (none is fine); errors are ignored, as there is
    /// nothing a caller cleaning up could do about them.
    static func unpublish(containerID id: String) {
        guard let listing = try? ChildProcess.run([try tool(), "-w", "-t", "nat", "-S", dnatChain]), listing.status == 0 else {
            return
        }
        // iptables-nft prints the comment quoted: "swiftlet:ID".
        let marker = "--comment \"\(mark(id))\" "
        for line in listing.stdout.split(separator: "\n") where line.hasPrefix("-A \(dnatChain) ") && line.contains(marker) {
            let rule = line.dropFirst(3).split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            _ = try? iptables(["-t", "nat", "-D"] + rule, what: nil)
        }
    }

    static func dnatRule(_ port: PublishedPort, to address: IPv4Address, containerID id: String) -> [String] {
        (port.hostIP.map { ["-d", "\($0)/32"] } ?? []) + [
            "-p", port.proto.rawValue, "-m", port.proto.rawValue, "--dport", "\(port.hostPort)",
            "-m", "comment", "--comment", mark(id),
            "-j", "DNAT", "--to-destination", "\(address):\(port.containerPort)",
        ]
    }

    private static func has(_ table: String, _ chain: String, _ rule: [String]) throws -> Bool {
        try iptables(["-t", table, "-C", chain] + rule, what: nil) == 0
    }

    /// Runs iptables (waiting for the xtables lock); with `what`, a non-zero status
    /// throws, without it the status is returned.
    @discardableResult
    private static func iptables(_ arguments: [String], what: String? = "changing the packet filter") throws -> Int32 {
        let result = try ChildProcess.run([try tool(), "-w"] + arguments)
        if let what, result.status != 0 {
            let text = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SwiftletError("\(what): iptables \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return result.status
    }

    /// The `iptables` executable.
    static func tool() throws -> String {
        try HostLinks.networkTool("iptables", package: "the iptables package")
    }

    private static func writeSetting(_ path: String, _ value: String) throws {
        do {
            try value.write(toFile: path, atomically: false, encoding: .utf8)
        } catch {
            throw SwiftletError("cannot set \(path) to \(value): \(error.localizedDescription)")
        }
    }
}
