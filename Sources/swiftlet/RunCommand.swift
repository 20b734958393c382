import HostSystem
import ArgumentParser
import Foundation
import Images
import Registry
import Runtime
import Units

/// The state-root option of the container and volume commands.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "State root (default: $SWIFTLET_ROOT or /var/lib/swiftlet).")
    var root: String?

    func open() throws -> Runtime {
        try Runtime(root: ContentStore.defaultRoot(root), executable: InstallLayout.running().executable)
    }
}

/// `--isolation`'s value.
func parsedIsolation(_ text: String) throws -> Isolation {
    guard let kind = Isolation(rawValue: text) else {
        throw SwiftletError("invalid isolation '\(text)': use namespace or microvm", code: .invalidArgument)
    }
    return kind
}

/// `--network`'s value: bridge, none, host, container:NAME or a network's name or id
/// (whether it exists is checked at create).
func parsedNetwork(_ text: String) throws -> NetworkMode {
    if text == "container:" {
        throw SwiftletError("invalid --network container: name a container (container:NAME)", code: .invalidArgument)
    }
    return NetworkMode(text)
}

/// `--label KEY=VALUE` entries (`KEY` alone: an empty value), the last of a key winning.
func parsedLabels(_ entries: [String]) -> [String: String] {
    Dictionary(entries.map { entry in
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }) { _, last in last }
}

/// The value of option `flag` parsed by a Units parser. A bad value is a `SwiftletError`
/// in Docker's words, `invalid argument "1x" for "-m, --memory" flag: …`, so
/// `reportingErrors` prints one line and exits 125 as Docker's CLI does (an
/// ArgumentParser validation error would print the usage and exit 64).
func parsedOption<Value>(_ text: String, _ flag: String, _ parse: (String) throws(ValueError) -> Value) throws(SwiftletError) -> Value {
    do {
        return try parse(text)
    } catch {
        throw SwiftletError("invalid argument \"\(text)\" for \"\(flag)\" flag: \(error)", code: .invalidArgument)
    }
}

/// The `docker create`/`docker run` flags.
struct CreateFlags: ParsableArguments {
    @Option(help: "Pull the image before creating: missing (when it is not in the store), always or never.")
    var pull = "missing"
    @Flag(name: .shortAndLong, help: "Keep STDIN open.")
    var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a pseudo-TTY.")
    var tty = false
    @Flag(name: .customLong("rm"), help: "Remove the container when it exits.")
    var autoRemove = false
    @Option(help: "Restart policy: no, on-failure[:max-retries], always or unless-stopped.")
    var restart = "no"
    @Option(parsing: .unconditional, help: "Container name: [a-zA-Z0-9][a-zA-Z0-9_.-]+.")
    var name: String?
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable (K=V, or K to copy the host's).")
    var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read environment variables from a file.")
    var envFile: [String] = []
    @Option(name: [.customShort("w"), .customLong("workdir")], help: "Working directory inside the container.")
    var workdir: String?
    @Option(name: .shortAndLong, help: "User: name|uid[:group|gid].")
    var user: String?
    @Option(name: [.customShort("v"), .long], help: "Volume: NAME:/path[:ro] or /host/path:/path[:ro].")
    var volume: [String] = []
    // These and --name are Strings taken as typed (`-m -1` included), parsed by `options()`.
    @Option(parsing: .unconditional, help: "Number of CPUs (fractional, up to \(CPUCount.maximum)).")
    var cpus: String?
    @Option(name: [.customShort("m"), .long], parsing: .unconditional, help: "Memory limit (e.g. 64m, 1.5g, 1GiB; a bare number is bytes, 0 no limit).")
    var memory: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes (-1: no limit).")
    var pidsLimit: String?
    @Option(help: "Override the image's entrypoint.")
    var entrypoint: String?
    @Option(name: [.customShort("h"), .long], help: "Container hostname.")
    var hostname: String?
    @Option(help: "Isolation: microvm (default: a microVM per container; needs a KVM that runs Linux guests) or namespace.")
    var isolation: String = Isolation.microvm.rawValue
    @Option(help: "Network: bridge (default: eth0 on the host bridge swiftlet0, 10.88.0.0/16), none (loopback only), host or container:NAME (namespace isolation: the host's or that container's network stack), or a network's name or id (`swiftlet network create`).")
    var network: String = NetworkMode.bridge.description
    @Option(name: .customLong("network-alias"), help: "Another name for the container on a user-defined network.")
    var networkAlias: [String] = []
    @Option(name: [.customShort("l"), .long], help: "Set metadata on the container (KEY=VALUE).")
    var label: [String] = []
    @Option(name: [.customShort("p"), .customLong("publish")], help: "Publish a container's port(s) to the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], ranges like 8000-8002:80-82.")
    var publish: [String] = []
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish every exposed port of the image to an ephemeral host port.")
    var publishAll = false
    @OptionGroup var security: SecurityFlags
    @Argument(help: "The image.")
    var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments.")
    var command: [String] = []

    func options() throws -> CreateOptions {
        var options = CreateOptions(image: image)
        options.name = try name.map { try parsedOption($0, "--name", ContainerName.validate) }
        options.command = command.first == "--" ? Array(command.dropFirst()) : command
        options.entrypoint = entrypoint
        for file in envFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw SwiftletError("open \(file): no such file or directory", code: .notFound)
            }
            options.env += CreateOptions.envFileEntries(text)
        }
        options.env += env
        options.workingDir = workdir
        options.user = user
        options.hostname = hostname
        options.volumes = volume
        // Docker: a memory of 0 and a pids limit of 0 or below mean no limit.
        options.limits = ResourceLimits(memory: try memory.flatMap { try parsedOption($0, "-m, --memory", MemoryLimit.parse) },
                                        cpus: try cpus.map { try parsedOption($0, "--cpus", CPUCount.parse) },
                                        pids: try pidsLimit.flatMap { try parsedOption($0, "--pids-limit", PidsLimit.parse) })
        options.isolation = try parsedIsolation(isolation)
        options.network = try parsedNetwork(network)
        options.networkAliases = networkAlias
        options.labels = parsedLabels(label)
        options.ports = try publish.flatMap { try PortBinding.parse($0) }
        options.publishAll = publishAll
        options.interactive = interactive
        options.tty = tty
        options.autoRemove = autoRemove
        options.restartPolicy = try RestartPolicy(parsing: restart)
        options.security = try security.options()
        return options
    }
}

/// Creates a container, pulling its image first as Docker's `--pull` says: `missing`
/// (the default: only an image not in the store, "Unable to find image … locally"),
/// `always` or `never`.
func createPulling(_ runtime: Runtime, _ options: CreateOptions, policy: String) async throws -> ContainerConfig {
    guard ["missing", "always", "never"].contains(policy) else {
        throw SwiftletError("invalid pull option: '\(policy)': must be one of \"always\", \"missing\" or \"never\"", code: .invalidArgument)
    }
    func pull() async throws {
        let reference = try ImageReference(parsing: options.image)
        var registry = RegistryOptions.defaults(for: reference)
        try RegistryCredentials().apply(to: &registry, host: reference.host)
        let pulled = try await ImageStore(root: runtime.root).pull(options.image, options: registry)
        FileHandle.standardError.write(Data("Status: Downloaded newer image for \(reference) (\(pulled.image.manifestDescriptor.digest))\n".utf8))
    }
    if policy == "always" { try await pull() }
    do {
        return try runtime.create(options)
    } catch let error as SwiftletError where policy == "missing" && error.code == .notFound && error.message.hasPrefix("Unable to use image") {
        FileHandle.standardError.write(Data("Unable to find image '\(options.image)' locally\n".utf8))
        try await pull()
        return try runtime.create(options)
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Create and start a container.", helpNames: [.long])

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Run in the background and print the container id.")
    var detach = false
    @OptionGroup var flags: CreateFlags

    func run() async throws {
        try await reportingErrors(otherwise: 125) {
            let options = try flags.options()
            let runtime = try runtime.open()
            let config = try await createPulling(runtime, options, policy: flags.pull)
            if detach {
                _ = try runtime.start(config.id, attach: false)
                print(config.id)
            } else if let code = try runtime.start(config.id, attach: true), code != 0 {
                throw ExitCode(code)
            }
        }
    }
}

struct CreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a container.", helpNames: [.long])

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var flags: CreateFlags

    func run() async throws {
        try await reportingErrors(otherwise: 125) {
            let options = try flags.options()
            print(try await createPulling(try runtime.open(), options, policy: flags.pull).id)
        }
    }
}

struct StartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start containers.")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Attach stdout/stderr and forward signals; exit with the container's code.")
    var attach = false
    @Flag(name: .shortAndLong, help: "Attach stdin.")
    var interactive = false
    @Argument(help: "Containers.")
    var containers: [String]

    func run() throws {
        try reportingErrors(otherwise: 125) {
            let runtime = try runtime.open()
            for container in containers {
                if attach, let code = try runtime.start(container, attach: true) {
                    if code != 0 { throw ExitCode(code) }
                } else {
                    _ = try runtime.start(container, attach: false)
                    print(container)
                }
            }
        }
    }
}
