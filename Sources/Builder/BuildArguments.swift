import HostSystem

/// What a FROM line names once ARGs are substituted (Dockerfile reference: "FROM",
/// "Understand how ARG and FROM interact").
public enum BaseImage: Sendable, Equatable {
    /// `FROM scratch`: no base, an empty file system.
    case scratch
    /// An earlier stage of the same Dockerfile, by index.
    case stage(Int)
    /// An image reference to pull or find locally.
    case image(String)
}

/// The build arguments of one build (Dockerfile reference: "ARG", "Predefined ARGs"):
/// `--build-arg` values, the ARGs declared before the first FROM (global ARGs, usable in
/// FROM lines and as defaults of a stage re-declaring them), and which were used, as
/// moby's `BuildArgs` keeps them.
public struct BuildArguments: Sendable {
    /// The proxy variables every build may be given without declaring them; they reach RUN's
    /// environment but not the image's history unless a stage declares them.
    public static let predefined: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    ]

    /// `--build-arg NAME=value` values.
    public let options: [String: String]
    /// Global ARGs: name → default after substitution (nil when declared without one).
    private(set) var globals: [String: String?] = [:]
    private var referenced: Set<String> = []

    public init(options: [String: String]) {
        self.options = options
    }

    /// The global ARGs of `dockerfile` read in order, each default expanded with the ones
    /// before it (and `--build-arg` values).
    public init(options: [String: String], dockerfile: Dockerfile) throws {
        self.init(options: options)
        let expander = WordExpander(escape: dockerfile.escape)
        for declaration in dockerfile.globalArgs {
            let value = try declaration.defaultValue.map { try expander.expand($0, environment: globalValues) }
            globals[declaration.name] = value
            referenced.insert(declaration.name)
        }
    }

    /// Global ARGs and predefined ones with their values, as FROM lines see them.
    public var globalValues: [String: String] {
        var values: [String: String] = [:]
        for name in Set(globals.keys).union(Self.predefined) {
            if let value = options[name] ?? globals[name].flatMap({ $0 }) { values[name] = value }
        }
        return values
    }

    /// `--build-arg` names no ARG declared (Docker warns: "One or more build-args … were not consumed").
    public var unconsumed: [String] {
        options.keys.filter { !referenced.contains($0) && !Self.predefined.contains($0) }.sorted()
    }

    /// Records that a stage declared `name`.
    mutating func markReferenced(_ name: String) {
        referenced.insert(name)
    }

    /// What `stage`'s FROM names: its base name with global ARGs substituted, then `scratch`,
    /// an earlier stage's name, or an image; and its `--platform`, substituted likewise.
    public func resolveBase(of stage: BuildStage, in dockerfile: Dockerfile) throws -> (base: BaseImage, platform: String?) {
        let expander = WordExpander(escape: dockerfile.escape)
        let name = try expander.expand(stage.from.baseName, environment: globalValues)
        guard !name.isEmpty else {
            throw SwiftletError("base name (\(stage.from.baseName)) should not be blank", code: .invalidArgument)
        }
        let platform = try stage.from.platform.map { try expander.expand($0, environment: globalValues) }
        let lowered = name.lowercased()
        if let earlier = dockerfile.stages[..<stage.index].first(where: { $0.from.stageName == lowered }) {
            return (.stage(earlier.index), platform)
        }
        return (lowered == "scratch" ? .scratch : .image(name), platform)
    }

    /// The value a stage's ARG `name` has: `--build-arg` first, then the stage's default, then
    /// the global ARG's (moby's `getBuildArg`); nil when it has none.
    func value(of name: String, declaredDefault: String??) -> String? {
        if let option = options[name] { return option }
        if let declared = declaredDefault.flatMap({ $0 }) { return declared }
        return globals[name].flatMap { $0 }
    }
}
