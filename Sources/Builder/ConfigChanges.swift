import HostSystem
import Images

/// `--change` instructions of `commit` and `import` (`changes` of `POST /commit` and an
/// import): Dockerfile lines applied to an image config as a build would apply them, limited
/// to the instructions that change only the config (moby's `validCommitCommands`).
public struct ConfigChanges: Sendable {
    private let dockerfile: Dockerfile?

    /// Parses `lines` (one instruction each); refuses any other instruction with dockerd's
    /// `RUN is not a valid change command`.
    public init(_ lines: [String]) throws {
        guard !lines.isEmpty else {
            dockerfile = nil
            return
        }
        let parsed = try Dockerfile.parse((["FROM scratch"] + lines).joined(separator: "\n"))
        for located in parsed.stages.flatMap(\.instructions) {
            switch located.instruction {
            case .cmd, .entrypoint, .env, .expose, .label, .onbuild, .user, .volume, .workdir, .healthcheck, .stopSignal:
                continue
            default:
                let keyword = located.original.split(separator: " ").first.map { $0.uppercased() } ?? located.original
                throw SwiftletError("\(keyword) is not a valid change command", code: .invalidArgument)
            }
        }
        guard parsed.stages.count == 1 else { throw SwiftletError("FROM is not a valid change command", code: .invalidArgument) }
        dockerfile = parsed
    }

    /// Applies the changes to `config` (its ONBUILD triggers kept, new ones added; no PATH
    /// added that the config did not have).
    public func apply(_ config: inout ImageConfig.Runtime) throws {
        guard let dockerfile else { return }
        var builder = StageBuilder(dockerfile: dockerfile, stageIndex: 0, base: config, arguments: BuildArguments(options: [:]))
        for located in dockerfile.stages[0].instructions {
            _ = try builder.dispatch(located.instruction)
        }
        var changed = builder.config
        if config.Env == nil && changed.Env == ["PATH=\(StageBuilder.defaultPath)"] { changed.Env = nil }
        let triggers = (config.OnBuild ?? []) + (changed.OnBuild ?? [])
        changed.OnBuild = triggers.isEmpty ? nil : triggers
        config = changed
    }
}
