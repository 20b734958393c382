import Foundation
import HostSystem
import Images

/// The state of one build stage as its instructions are dispatched, the way Docker's classic
/// builder keeps it (moby builder/dockerfile dispatchers; Dockerfile reference: "Environment
/// replacement", "ARG", "Multi-stage builds"): the image configuration so far, the author,
/// the ARGs the stage declared, and whether it set CMD. ``dispatch(_:)`` expands one
/// instruction, applies its configuration effect and says what to execute.
public struct StageBuilder: Sendable {
    /// The configuration the stage's image gets, updated by every dispatched instruction.
    public private(set) var config: ImageConfig.Runtime
    /// MAINTAINER's value: the image's `author`.
    public private(set) var author: String?
    /// The base image's ONBUILD triggers, which run before the stage's own instructions
    /// (``Dockerfile/parseTriggers(_:escape:)``); the new image does not inherit them.
    public let inheritedTriggers: [String]
    /// The build arguments, with the ARGs this stage used marked.
    public private(set) var arguments: BuildArguments
    private let dockerfile: Dockerfile
    private let stageIndex: Int
    private let expander: WordExpander
    /// ARGs this stage declared: name → default (nil when declared without one).
    private var declaredArgs: [String: String?] = [:]
    private var cmdSet = false

    /// The default PATH Docker gives a Linux image without one.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    static let defaultShell = ["/bin/sh", "-c"]

    /// Starts stage `stageIndex` of `dockerfile` on `base` (the base image's config; nil for
    /// scratch): PATH added if missing, ONBUILD triggers taken out.
    public init(dockerfile: Dockerfile, stageIndex: Int, base: ImageConfig.Runtime?, arguments: BuildArguments) {
        var config = base ?? ImageConfig.Runtime()
        if !(config.Env ?? []).contains(where: { $0.hasPrefix("PATH=") || $0 == "PATH" }) {
            config.Env = (config.Env ?? []) + ["PATH=\(Self.defaultPath)"]
        }
        inheritedTriggers = config.OnBuild ?? []
        config.OnBuild = nil
        self.config = config
        self.arguments = arguments
        self.dockerfile = dockerfile
        self.stageIndex = stageIndex
        expander = WordExpander(escape: dockerfile.escape)
    }

    /// The variables instructions are expanded with: Env, then build arguments in effect that
    /// Env does not set.
    public var expansionEnvironment: [String: String] {
        var environment = Self.dictionary(config.Env ?? [])
        for (name, value) in argumentsInEffect() where environment[name] == nil {
            environment[name] = value
        }
        return environment
    }

    /// A history entry for a step's `createdBy`, with this stage's author.
    public func historyEntry(createdBy: String, created: String?, emptyLayer: Bool) -> ImageConfig.History {
        ImageConfig.History(created: created, created_by: createdBy, author: author, empty_layer: emptyLayer ? true : nil)
    }

    /// Expands `instruction`, applies what it does to the configuration, and returns what is
    /// left to execute and the history text.
    public mutating func dispatch(_ instruction: Instruction) throws -> BuildStep {
        let environment = expansionEnvironment
        let expander = expander
        let expand = { (word: String) throws -> String in try expander.expand(word, environment: environment) }
        switch instruction {
        case .run(let form):
            return .run(runStep(form))
        case .copy(let copy):
            return .copy(try copyStep(copy, expand: expand))
        case .env(let pairs):
            var text = "ENV"
            for pair in pairs {
                let entry = "\(try expand(pair.key))=\(try expand(pair.value))"
                setEnvironment(entry)
                text += " " + entry
            }
            return metadata(text)
        case .label(let pairs):
            var text = "LABEL"
            var labels = config.Labels ?? [:]
            for pair in pairs {
                let key = try expand(pair.key), value = try expand(pair.value)
                labels[key] = value
                text += " \(key)=\(value)"
            }
            config.Labels = labels
            return metadata(text)
        case .arg(let declarations):
            var parts: [String] = []
            for declaration in declarations {
                let name = try expand(declaration.name)
                let value = try declaration.defaultValue.map(expand)
                if declaredArgs[name] == nil || value != nil { declaredArgs[name] = value }
                arguments.markReferenced(name)
                parts.append(value.map { "\(name)=\($0)" } ?? name)
            }
            return metadata("ARG " + parts.joined(separator: " "))
        case .workdir(let path):
            let requested = try expand(path)
            let current = config.WorkingDir ?? ""
            let resolved = requested.hasPrefix("/") ? requested : joinPath("/", current, requested)
            config.WorkingDir = resolved
            return .workdir(path: resolved, createdBy: (shell + ["#(nop) WORKDIR \(resolved)"]).joined(separator: " "))
        case .user(let user):
            let expanded = try expand(user)
            config.User = expanded
            return metadata("USER \(expanded)")
        case .cmd(let form):
            let command = resolve(form, emptyAsNil: false)
            config.Cmd = command
            if command?.isEmpty == false { cmdSet = true }
            return metadata("CMD \(GoFormat.quote(command ?? []))")
        case .entrypoint(let form):
            let entrypoint = resolve(form, emptyAsNil: true)
            config.Entrypoint = entrypoint
            if !cmdSet { config.Cmd = nil }
            return metadata("ENTRYPOINT \(GoFormat.quote(entrypoint ?? []))")
        case .expose(let written):
            var ports: [String] = []
            for word in written { ports += try expander.expandToWords(word, environment: environment) }
            var exposed = config.ExposedPorts ?? [:]
            for port in try ports.flatMap(ExposedPort.keys) { exposed[port] = ImageConfig.EmptyObject() }
            config.ExposedPorts = exposed
            return metadata("EXPOSE " + ports.joined(separator: " "))
        case .volume(let written):
            let volumes = try written.map(expand)
            var set = config.Volumes ?? [:]
            for volume in volumes {
                guard !volume.isEmpty else { throw SwiftletError("VOLUME specified can not be an empty string", code: .invalidArgument) }
                set[volume] = ImageConfig.EmptyObject()
            }
            config.Volumes = set
            return metadata("VOLUME \(GoFormat.plain(volumes))")
        case .shell(let shell):
            config.Shell = shell
            return metadata("SHELL \(GoFormat.plain(shell))")
        case .stopSignal(let signal):
            let expanded = try expand(signal)
            config.StopSignal = expanded
            return metadata("STOPSIGNAL \(expanded)")
        case .healthcheck(let healthcheck):
            let health = Self.healthConfig(healthcheck)
            config.Healthcheck = health
            return metadata("HEALTHCHECK \(Self.goRendering(health))")
        case .onbuild(let expression):
            config.OnBuild = (config.OnBuild ?? []) + [expression]
            return metadata("ONBUILD \(expression)")
        case .maintainer(let maintainer):
            author = maintainer
            return metadata("MAINTAINER \(maintainer)")
        }
    }

    /// The SHELL in effect (Docker's default `/bin/sh -c`).
    private var shell: [String] { config.Shell ?? Self.defaultShell }

    private func metadata(_ comment: String) -> BuildStep {
        .metadata(createdBy: (shell + ["#(nop) ", comment]).joined(separator: " "))
    }

    /// A shell-form command wrapped in the SHELL; an exec form as it is (ENTRYPOINT's `[]`
    /// clears it: nil).
    private func resolve(_ form: CommandForm, emptyAsNil: Bool) -> [String]? {
        switch form {
        case .shell(let text): shell + [text]
        case .exec(let list): list.isEmpty && emptyAsNil ? nil : list
        }
    }

    private mutating func setEnvironment(_ entry: String) {
        let name = entry.prefix { $0 != "=" }
        var environment = config.Env ?? []
        if let index = environment.firstIndex(where: { $0.prefix { $0 != "=" } == name }) {
            environment[index] = entry
        } else {
            environment.append(entry)
        }
        config.Env = environment
    }

    /// Declared and predefined build arguments with a value (moby's `GetAllAllowed`).
    private func argumentsInEffect() -> [String: String] {
        var values: [String: String] = [:]
        for name in Set(declaredArgs.keys).union(BuildArguments.predefined) {
            if let value = arguments.value(of: name, declaredDefault: declaredArgs[name]) { values[name] = value }
        }
        return values
    }

    private func runStep(_ form: CommandForm) -> RunStep {
        let argv: [String]
        switch form {
        case .shell(let text): argv = shell + [text]
        case .exec(let list): argv = list
        }
        let environmentNames = Set(Self.dictionary(config.Env ?? []).keys)
        let buildArguments = argumentsInEffect().filter { !environmentNames.contains($0.key) }.sorted { $0.key < $1.key }
        var recorded = argv
        if !buildArguments.isEmpty {
            let shown = buildArguments.filter { declaredArgs[$0.key] != nil || !BuildArguments.predefined.contains($0.key) }
            recorded = ["|\(shown.count)"] + shown.map { "\($0.key)=\($0.value)" } + argv
        }
        return RunStep(argv: argv, environment: (config.Env ?? []) + buildArguments.map { "\($0.key)=\($0.value)" },
                       user: config.User ?? "", workingDirectory: config.WorkingDir ?? "",
                       createdBy: recorded.joined(separator: " "))
    }

    private func copyStep(_ copy: CopyInstruction, expand: (String) throws -> String) throws -> CopyStep {
        let sources = try copy.sources.map(expand)
        let written = try expand(copy.destination)
        let name = copy.isAdd ? "ADD" : "COPY"
        if sources.count > 1, !written.hasSuffix("/") {
            throw SwiftletError("When using \(name) with more than one source file, the destination must be a directory and end with a /", code: .invalidArgument)
        }
        var destination = written
        if !written.hasPrefix("/") {
            destination = joinPath("/", config.WorkingDir ?? "", written)
            if written.hasSuffix("/"), destination != "/" { destination += "/" }
        }
        var chmod: UInt32?
        if let text = try copy.chmod.map(expand) {
            guard let bits = UInt32(text, radix: 8), bits <= 0o7777 else {
                throw SwiftletError("invalid chmod parameter: \(text)", code: .invalidArgument)
            }
            chmod = bits
        }
        return CopyStep(isAdd: copy.isAdd, source: try copy.from.map { try copySource(try expand($0)) } ?? .context,
                        sources: sources, destination: destination, chown: try copy.chown.map(expand), chmod: chmod,
                        writtenDestination: written, shell: shell)
    }

    /// `--from`: an earlier stage's name, a stage index, or else an image reference.
    private func copySource(_ from: String) throws -> CopySource {
        let lowered = from.lowercased()
        if let stage = dockerfile.stages[..<stageIndex].first(where: { $0.from.stageName == lowered }) {
            return .stage(stage.index)
        }
        guard let index = Int(from) else { return .image(from) }
        guard index != stageIndex else { throw SwiftletError("invalid from flag value \(from): refers to current build stage", code: .invalidArgument) }
        guard index >= 0, index < stageIndex else { throw SwiftletError("invalid from flag value \(from): index out of bounds", code: .invalidArgument) }
        return .stage(index)
    }

    static func dictionary(_ environment: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in environment {
            let name = String(entry.prefix { $0 != "=" })
            result[name] = String(entry.dropFirst(name.count + 1))
        }
        return result
    }

    static func healthConfig(_ healthcheck: HealthcheckInstruction) -> ImageConfig.HealthConfig {
        switch healthcheck {
        case .none:
            return ImageConfig.HealthConfig(Test: ["NONE"])
        case .check(let test, let interval, let timeout, let startPeriod, let retries):
            func omittingZero(_ value: Int64) -> Int64? { value == 0 ? nil : value }
            return ImageConfig.HealthConfig(Test: test, Interval: omittingZero(interval), Timeout: omittingZero(timeout),
                                            StartPeriod: omittingZero(startPeriod), Retries: retries == 0 ? nil : retries)
        }
    }

    /// Go's `%q` of dockerd 20.10's `*HealthConfig`: `&{["CMD-SHELL" "x"] "30s" "0s" "0s" '\x03'}`.
    static func goRendering(_ health: ImageConfig.HealthConfig) -> String {
        let durations = [health.Interval, health.Timeout, health.StartPeriod].map { GoFormat.quote(GoFormat.duration(nanoseconds: $0 ?? 0)) }
        return "&{\(GoFormat.quote(health.Test ?? [])) \(durations.joined(separator: " ")) \(GoFormat.quoteRune(health.Retries ?? 0))}"
    }
}
