import Foundation
import Images
import HostSystem
import Runtime

/// `GET /containers/{id}/json`: a container as `docker inspect` shows it, in dockerd's
/// shape (the fields Swiftlet has; the CLI's `logs`, `attach` and `exec` read `Id`,
/// `Config.Tty` and `State.Running` from it).
public enum ContainerInspectRoute {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/containers/{id}/json") { _, parameters in
            let id = parameters["id"] ?? ""
            let info = try await blocking { try engine.runtime.info(id) }
            return try .json(Inspect(info, root: engine.root, networks: engine.runtime.networks.all()))
        }
    }

    static func timestamp(_ date: Date?) -> String { ContainerStatistics.timestamp(date) }

    struct Inspect: Encodable {
        struct State: Encodable {
            var Status: String
            var Running: Bool
            var Paused: Bool
            var Restarting = false
            var OOMKilled: Bool
            var Dead = false
            var Pid: Int32
            var ExitCode: Int32
            var Error: String
            var StartedAt: String
            var FinishedAt: String
        }
        struct Config: Encodable {
            var Hostname: String
            var Domainname = ""
            var User: String
            var AttachStdin = false
            var AttachStdout = false
            var AttachStderr = false
            var Tty: Bool
            var OpenStdin: Bool
            var StdinOnce: Bool
            var Env: [String]
            var Cmd: [String]
            var Image: String
            var WorkingDir: String
            var Entrypoint: [String]? = nil
            var Labels: [String: String] = [:]
        }
        struct LogConfig: Encodable {
            var `Type` = "json-file"
            var Config: [String: String] = [:]
        }
        struct RestartPolicy: Encodable {
            var Name: String
            var MaximumRetryCount: Int
        }
        struct HostConfig: Encodable {
            var LogConfig = Inspect.LogConfig()
            var NetworkMode: String
            var RestartPolicy: RestartPolicy
            var AutoRemove: Bool
            var Memory: Int64
            var NanoCpus: Int64
            var CpuShares: Int
            var PidsLimit: Int?
            var Privileged: Bool
            var ReadonlyRootfs: Bool
            var CapAdd: [String]?
            var CapDrop: [String]?
            var Isolation: String
            var Runtime: String
            var PortBindings: [String: [PortMap.HostBinding]] = [:]
            var PublishAllPorts = false
        }
        struct Mount: Encodable {
            var `Type`: String
            var Name: String?
            var Source: String
            var Destination: String
            var Mode = ""
            var RW: Bool
            var Propagation = ""
        }
        struct Network: Encodable {
            var IPAddress: String
            var IPPrefixLen: Int
            var Gateway: String
            var MacAddress: String
            var Ports: [String: [PortMap.HostBinding]?]
            var Networks: [String: Endpoint]
        }
        /// One network the container is on (EndpointSettings): its address there while it runs.
        struct Endpoint: Encodable {
            var IPAMConfig: [String: String]? = nil
            var Links: [String]? = nil
            var Aliases: [String]?
            var NetworkID: String
            var EndpointID: String
            var Gateway: String
            var IPAddress: String
            var IPPrefixLen: Int
            var IPv6Gateway = ""
            var GlobalIPv6Address = ""
            var GlobalIPv6PrefixLen = 0
            var MacAddress: String
            var DriverOpts: [String: String]? = nil
        }
        var Id: String
        var Created: String
        var Path: String
        var Args: [String]
        var State: State
        var Image: String
        var LogPath: String
        var Name: String
        var RestartCount: Int
        var Driver = "swiftlet"
        var Platform = "linux"
        var HostConfig: HostConfig
        var Mounts: [Mount]
        var Config: Config
        var NetworkSettings: Network

        init(_ container: ContainerInfo, root: String, networks: [NetworkDefinition]) {
            let config = container.config, state = container.state, security = config.security ?? SecurityOptions()
            Id = config.id
            Created = ContainerInspectRoute.timestamp(config.created)
            Path = config.process.args.first ?? ""
            Args = Array(config.process.args.dropFirst())
            self.State = Inspect.State(Status: state.isPaused ? "paused" : state.status.rawValue, Running: state.isActive,
                          Paused: state.isPaused, Restarting: state.status == .restarting, OOMKilled: state.oomKilled,
                          Pid: state.status == .running ? state.pid ?? 0 : 0, ExitCode: state.exitCode ?? 0,
                          Error: state.error ?? "", StartedAt: ContainerInspectRoute.timestamp(state.startedAt),
                          FinishedAt: ContainerInspectRoute.timestamp(state.finishedAt))
            Image = config.imageID
            LogPath = "\(root)/containers/\(config.id)/container.log"
            Name = "/\(config.name)"
            RestartCount = state.restartCount
            let policy = config.restartPolicy
            self.HostConfig = Inspect.HostConfig(NetworkMode: config.network?.description ?? "default",
                               RestartPolicy: .init(Name: policy?.name.rawValue ?? "no", MaximumRetryCount: policy?.maximumRetryCount ?? 0),
                               AutoRemove: config.autoRemove,
                               Memory: config.limits.memory ?? 0, NanoCpus: Int64((config.limits.cpus ?? 0) * 1e9),
                               CpuShares: config.limits.cpuShares ?? 0,
                               PidsLimit: config.limits.pids, Privileged: security.privileged,
                               ReadonlyRootfs: security.readOnlyRootfs,
                               CapAdd: security.capAdd.isEmpty ? nil : security.capAdd,
                               CapDrop: security.capDrop.isEmpty ? nil : security.capDrop,
                               Isolation: config.isolation.rawValue, Runtime: "swiftlet-\(config.isolation.rawValue)")
            self.HostConfig.PortBindings = PortMap.requested(config.ports ?? [])
            Mounts = config.mounts.map { mount in
                Inspect.Mount(Type: mount.volume == nil ? "bind" : "volume", Name: mount.volume, Source: mount.source,
                      Destination: mount.destination, RW: !mount.readOnly)
            }
            self.Config = Inspect.Config(Hostname: config.hostname, User: config.process.user, Tty: config.tty, OpenStdin: config.interactive,
                           StdinOnce: config.stdinOnce ?? false,
                           Env: config.process.env, Cmd: config.process.args, Image: ImageReference.familiar(config.image),
                           WorkingDir: config.process.cwd, Labels: config.labels ?? [:])
            let network = state.network
            NetworkSettings = Network(IPAddress: network?.address.description ?? "", IPPrefixLen: network?.prefix ?? 0,
                                    Gateway: network?.gateway.description ?? "", MacAddress: network?.macAddress ?? "",
                                    Ports: PortMap.ports(configured: config.ports ?? [], published: network?.ports ?? []),
                                    Networks: Self.endpoints(container, networks: networks))
        }
    
        /// NetworkSettings.Networks: every network the container is configured for, by
        /// name, with its place there while it runs (user-defined networks also list the
        /// short id among the aliases, as dockerd).
        static func endpoints(_ container: ContainerInfo, networks: [NetworkDefinition]) -> [String: Endpoint] {
            let config = container.config
            var result: [String: Endpoint] = [:]
            for endpoint in config.networkEndpoints {
                let definition = networks.first { $0.id == endpoint.networkID }
                let attachment = container.state.attachments.first { $0.network == endpoint.networkID }
                let userDefined = definition.map { !$0.isPredefined } ?? false
                let aliases = userDefined ? [String(config.id.prefix(12))] + (endpoint.aliases ?? []) : nil
                result[definition?.name ?? endpoint.networkID] = Endpoint(
                    Aliases: aliases, NetworkID: endpoint.networkID,
                    EndpointID: attachment == nil ? "" : NetworkResource.endpointID(container: config.id, network: endpoint.networkID),
                    Gateway: attachment?.gateway.description ?? "", IPAddress: attachment?.address.description ?? "",
                    IPPrefixLen: attachment?.prefix ?? 0, MacAddress: attachment?.macAddress ?? "")
            }
            return result
        }
    }
}
