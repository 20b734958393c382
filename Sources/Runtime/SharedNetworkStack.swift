import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where a starting container's network stack comes from: its own namespace with these
/// attachments (bridge, user networks, or none), the host's (`--network host`), or
/// another running container's (`--network container:ID`; Docker's NetworkMode
/// "container:", which shares the namespace and that container's /etc/hosts, hostname and
/// resolver).
public enum NetworkPlacement: Sendable {
    case own([NetworkAttachment])
    case host
    case joined(pid: Int32, container: ContainerConfig, state: ContainerState)
}

/// `--network host` and `--network container:NAME` (Docker's rules, moby's
/// daemon/container_operations.go): namespace containers only; neither publishes ports
/// (the ports are the host's or the other container's) nor sets `net.*` sysctls (they
/// would change the host's or the other container's); `container:` takes the other
/// container's hostname, refuses one of its own, and is not combined with `--userns`.
extension Runtime {
    /// Checks `options` for a shared stack and completes it: `container:` resolved to the
    /// container's id and hostname; `host` with the host's hostname unless one is given.
    func shareNetworkStack(_ options: inout CreateOptions) throws {
        guard !options.network.hasOwnStack else { return }
        let mode = options.network
        if options.isolation == .microvm {
            throw SwiftletError("--network \(mode) is not supported with --isolation microvm: a microVM has a network stack of its own",
                                code: .invalidArgument)
        }
        if !options.ports.isEmpty || options.publishAll {
            throw SwiftletError("conflicting options: port publishing and the container type network mode (--network \(mode))",
                                code: .invalidArgument)
        }
        if let sysctl = options.security.sysctls.first(where: { $0.key.hasPrefix("net.") }) {
            throw SwiftletError("sysctl \(sysctl.key) is not allowed with --network \(mode): it would change \(mode == .host ? "the host's" : "another container's") network settings",
                                code: .invalidArgument)
        }
        switch mode {
        case .host:
            if options.hostname == nil {
                var name = [CChar](repeating: 0, count: 256)
                if gethostname(&name, name.count) == 0 {
                    options.hostname = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                }
            }
        case .container(let reference):
            if options.hostname != nil {
                throw SwiftletError("conflicting options: hostname and the network mode", code: .invalidArgument)
            }
            if case .auto = options.security.userNamespace {
                throw SwiftletError("--network container: cannot be combined with --userns=auto", code: .invalidArgument)
            }
            let target = try containers.find(reference)
            options.network = .container(target.id)
            options.hostname = target.hostname
        default:
            break
        }
    }

    /// The stack a container starting now gets: for `container:ID`, that container must
    /// be running (its init's namespace is joined).
    func networkPlacement(_ config: ContainerConfig, attachments: [NetworkAttachment]) throws -> NetworkPlacement {
        switch config.network {
        case .host:
            return .host
        case .container(let id):
            let target: ContainerConfig
            do {
                target = try containers.find(id)
            } catch {
                throw SwiftletError("cannot join the network of container \(id): it no longer exists", code: .notFound)
            }
            let state = try refreshedState(target)
            guard state.status == .running, let pid = state.pid else {
                throw SwiftletError("cannot join network of a non running container: \(target.name)", code: .conflict)
            }
            return .joined(pid: pid, container: target, state: state)
        default:
            return .own(attachments)
        }
    }
}
