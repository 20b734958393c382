/// A command as RUN, CMD and ENTRYPOINT take it (Dockerfile reference: "Shell and exec
/// form"): a text the stage's SHELL runs, or a JSON array executed as it is.
public enum CommandForm: Sendable, Equatable {
    case shell(String)
    case exec([String])
}

/// One `name=value` of ENV or LABEL, as written (not yet expanded).
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One name of an ARG, with its default if it has one (Dockerfile reference: "ARG").
public struct ArgDeclaration: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?

    public init(name: String, defaultValue: String?) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

/// COPY or ADD (Dockerfile reference: "COPY", "ADD"): sources, a destination, and the
/// `--from`, `--chown` and `--chmod` flags, all as written (expanded when dispatched).
public struct CopyInstruction: Sendable, Equatable {
    /// ADD rather than COPY: local tar archives are extracted and URLs fetched.
    public var isAdd: Bool
    public var sources: [String]
    public var destination: String
    /// `--from`: a stage name, a stage index or an image reference; nil for the context.
    public var from: String?
    public var chown: String?
    public var chmod: String?
    /// Written in the JSON form (`COPY ["a b", "/x/"]`).
    public var isJSON: Bool

    public init(isAdd: Bool, sources: [String], destination: String, from: String?, chown: String?, chmod: String?, isJSON: Bool) {
        self.isAdd = isAdd
        self.sources = sources
        self.destination = destination
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.isJSON = isJSON
    }
}

/// HEALTHCHECK (Dockerfile reference: "HEALTHCHECK"): `NONE`, or a command and its timings.
public enum HealthcheckInstruction: Sendable, Equatable {
    /// `HEALTHCHECK NONE`: disables any healthcheck inherited from the base image.
    case none
    /// `HEALTHCHECK [--interval] [--timeout] [--start-period] [--retries] CMD …`; durations
    /// in nanoseconds, 0 for Docker's default.
    case check(test: [String], interval: Int64, timeout: Int64, startPeriod: Int64, retries: Int)
}

/// One Dockerfile instruction inside a build stage, typed, its words not yet expanded
/// (Dockerfile reference: each instruction's section). FROM starts a ``BuildStage`` instead.
public enum Instruction: Sendable, Equatable {
    case run(CommandForm)
    case copy(CopyInstruction)
    case env([KeyValue])
    case arg([ArgDeclaration])
    case workdir(String)
    case user(String)
    case cmd(CommandForm)
    /// ENTRYPOINT; `.exec([])` is `ENTRYPOINT []`, which clears it.
    case entrypoint(CommandForm)
    case expose([String])
    case label([KeyValue])
    case volume([String])
    case shell([String])
    case stopSignal(String)
    case healthcheck(HealthcheckInstruction)
    /// ONBUILD: the trigger instruction's text, stored in the image for its children.
    case onbuild(String)
    /// MAINTAINER (deprecated): the image's author.
    case maintainer(String)
}

/// An instruction with where it came from, for errors and ONBUILD.
public struct LocatedInstruction: Sendable, Equatable {
    public var instruction: Instruction
    /// The first line of the instruction in the Dockerfile (from 1).
    public var line: Int
    /// The logical line as written (continuations joined).
    public var original: String
}

/// A FROM line (Dockerfile reference: "FROM"), as written: ARGs declared before the first
/// FROM are substituted when the build resolves it.
public struct FromInstruction: Sendable, Equatable {
    public var baseName: String
    /// `AS name`, lower-cased as Docker does; nil when unnamed.
    public var stageName: String?
    /// `--platform`, as written.
    public var platform: String?
    public var line: Int
}

/// One build stage: a FROM and the instructions up to the next FROM (Dockerfile reference:
/// "Multi-stage builds").
public struct BuildStage: Sendable, Equatable {
    /// The stage's position in the Dockerfile, from 0 (what `COPY --from=0` names).
    public var index: Int
    public var from: FromInstruction
    public var instructions: [LocatedInstruction]
}
