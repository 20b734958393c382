import Foundation
import HostSystem
import Images
import NIOCore
import Registry
import Runtime

/// `/_ping`, `/version`, `/info` and `/auth` (moby's `api/server/router/system`): what the
/// docker CLI asks before every command, what `docker version`/`docker info` print, and
/// the credential check of `docker login` (the client keeps the credentials itself).
public enum SystemRoutes {
    public static let engineVersion = SwiftletVersion.engine

    public static func add(to router: inout Router, engine: Engine) {
        router.add(.GET, "/_ping") { request, _ in
            // GET answers "OK"; HEAD the same headers without it (the server drops the body).
            APIResponse(headers: [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache, no-store, must-revalidate"),
                                  ("Pragma", "no-cache"), ("Swarm", "inactive")],
                        body: ByteBuffer(string: "OK"))
        }
        router.add(.GET, "/version") { _, _ in try .json(version()) }
        router.add(.GET, "/info") { _, _ in try .json(try await blocking { try info(engine) }) }
        router.add(.POST, "/auth") { request, _ in
            let body: AuthBody
            do {
                body = try JSONDecoder().decode(AuthBody.self, from: Data(request.body.readableBytesView))
            } catch {
                throw SwiftletError("invalid login: \(error)", code: .invalidArgument)
            }
            let host = try RegistryCredentials.host(ofServer: body.serveraddress)
            var options = RegistryOptions.defaults(forHost: host)
            options.username = body.username
            options.password = body.password
            try await options.verifyLogin(host: host)
            return try .json(["Status": "Login Succeeded", "IdentityToken": ""])
        }
    }

    /// The body of `POST /auth` (moby's `registry.AuthConfig`, the fields a login sends).
    struct AuthBody: Decodable {
        var username: String?
        var password: String?
        var serveraddress: String?
    }

    struct Version: Encodable {
        struct Component: Encodable {
            var Name: String
            var Version: String
            var Details: [String: String]
        }
        var Platform = ["Name": "Swiftlet"]
        var Components: [Component]
        var Version = engineVersion
        var ApiVersion = APIVersion.maximum.description
        var MinAPIVersion = APIVersion.minimum.description
        var GitCommit = ""
        var GoVersion = "swift"
        var Os = "linux"
        var Arch = "amd64"
        var KernelVersion = HostIdentity.kernelRelease
        var BuildTime = ""
    }

    static func version() -> Version {
        let details = ["ApiVersion": APIVersion.maximum.description, "MinAPIVersion": APIVersion.minimum.description,
                       "Os": "linux", "Arch": "amd64", "KernelVersion": HostIdentity.kernelRelease, "GitCommit": "",
                       "GoVersion": "swift", "Experimental": "false", "BuildTime": ""]
        return Version(Components: [Version.Component(Name: "Engine", Version: engineVersion, Details: details)])
    }

    /// `/info`: the fields the 28.2 CLI prints (ENGINE-API notes §1, `docker info`).
    struct Info: Encodable {
        struct Plugins: Encodable {
            var Volume = ["local"]
            var Network = ["bridge", "none"]
            var Authorization: [String]? = nil
            var Log = ["json-file"]
        }
        struct Swarm: Encodable { var LocalNodeState = "inactive"; var NodeID = ""; var NodeAddr = "" }
        struct Commit: Encodable { var ID = "" }
        struct RuntimeEntry: Encodable { var path: String }
        var ID: String
        var Containers: Int
        var ContainersRunning: Int
        var ContainersPaused: Int
        var ContainersStopped: Int
        var Images: Int
        var Driver = "swiftlet"
        var DriverStatus: [[String]]
        var Plugins = Plugins()
        var MemoryLimit = true
        var SwapLimit = false
        var CpuCfsPeriod = true
        var CpuCfsQuota = true
        var PidsLimit = true
        var IPv4Forwarding: Bool
        var Debug: Bool
        var NFd: Int
        var NGoroutines = 0
        var SystemTime: String
        var LoggingDriver = "json-file"
        var CgroupDriver = "cgroupfs"
        var CgroupVersion: String
        var NEventsListener = 0
        var KernelVersion = HostIdentity.kernelRelease
        var OperatingSystem = HostFacts.operatingSystem
        var OSVersion = ""
        var OSType = "linux"
        var Architecture = "x86_64"
        var IndexServerAddress = "https://index.docker.io/v1/"
        var NCPU = ProcessInfo.processInfo.activeProcessorCount
        var MemTotal = Int(ProcessInfo.processInfo.physicalMemory)
        var DockerRootDir: String
        var Name = ProcessInfo.processInfo.hostName
        var Labels: [String] = []
        var ExperimentalBuild = false
        var ServerVersion = engineVersion
        var Runtimes: [String: RuntimeEntry]
        var DefaultRuntime: String
        var Swarm = Swarm()
        var LiveRestoreEnabled = false
        var Isolation: String
        var InitBinary = ""
        var ContainerdCommit = Commit()
        var RuncCommit = Commit()
        var InitCommit = Commit()
        var SecurityOptions = ["name=seccomp,profile=builtin", "name=cgroupns"]
        var Warnings: [String] = []
    }

    static func info(_ engine: Engine) throws -> Info {
        let containers = engine.runtime.list(all: true)
        let paused = containers.filter { $0.state.isPaused }.count
        let running = containers.filter { $0.state.status == .running }.count - paused
        let images = (try? engine.images().list().count) ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        let forwarding = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8))?.hasPrefix("1") ?? false
        return Info(
            ID: engine.id, Containers: containers.count, ContainersRunning: running, ContainersPaused: paused,
            ContainersStopped: containers.count - running - paused,
            Images: images, DriverStatus: [["Root Dir", engine.root], ["Rootfs", "EROFS image + writable layer"]],
            IPv4Forwarding: forwarding, Debug: engine.debug, NFd: fds,
            SystemTime: ISO8601DateFormatter().string(from: Date()),
            CgroupVersion: HostFacts.cgroupVersion,
            DockerRootDir: engine.root,
            Runtimes: ["swiftlet-microvm": Info.RuntimeEntry(path: "swiftlet-vmm"), "swiftlet-namespace": Info.RuntimeEntry(path: "swiftlet-shim")],
            DefaultRuntime: "swiftlet-\(engine.defaultIsolation.rawValue)", Isolation: engine.defaultIsolation.rawValue)
    }
}
