import HostSystem

/// A parsed Dockerfile (Dockerfile reference, as a whole): the ARGs before the first FROM,
/// the build stages with their typed instructions, the escape character and Docker's warnings.
/// Nothing is expanded yet; ``StageBuilder`` does that as the build goes.
public struct Dockerfile: Sendable, Equatable {
    public var escape: Character
    /// ARGs before the first FROM: usable in FROM lines, and re-declarable inside stages.
    public var globalArgs: [ArgDeclaration]
    public var stages: [BuildStage]
    public var warnings: [String]

    /// Parses a Dockerfile's text with Docker's rules and error messages.
    public static func parse(_ text: String) throws -> Dockerfile {
        let split = try DockerfileLines.split(text)
        guard !split.lines.isEmpty else {
            throw SwiftletError("Dockerfile cannot be empty", code: .invalidArgument)
        }
        var dockerfile = Dockerfile(escape: split.escape, globalArgs: [], stages: [], warnings: split.warnings)
        for line in split.lines {
            if line.keyword == "from" {
                let from = try located(line) { try parseFrom(line) }
                dockerfile.stages.append(BuildStage(index: dockerfile.stages.count, from: from, instructions: []))
                continue
            }
            let instruction = try located(line) { try parseInstruction(line, escape: split.escape) }
            guard !dockerfile.stages.isEmpty else {
                guard case .arg(let declarations) = instruction else {
                    throw SwiftletError("no build stage in current context", code: .invalidArgument)
                }
                dockerfile.globalArgs += declarations
                continue
            }
            dockerfile.stages[dockerfile.stages.count - 1].instructions.append(
                LocatedInstruction(instruction: instruction, line: line.startLine, original: line.original))
        }
        guard !dockerfile.stages.isEmpty else {
            throw SwiftletError("no build stage in current context", code: .invalidArgument)
        }
        return dockerfile
    }

    /// The stage named `name` (case-insensitively, as Docker lower-cases stage names).
    public func stage(named name: String) -> BuildStage? {
        let lowered = name.lowercased()
        return stages.first { $0.from.stageName == lowered }
    }

    /// The stages a build of `target` (a stage name; nil for the last stage) goes through:
    /// every stage up to and including it, as Docker's classic builder builds them.
    public func stages(upTo target: String?) throws -> ArraySlice<BuildStage> {
        guard let target else { return stages[...] }
        guard let stage = stage(named: target) else {
            throw SwiftletError("failed to reach build target \(target) in Dockerfile", code: .invalidArgument)
        }
        return stages[...stage.index]
    }

    private static func located<T>(_ line: InstructionLine, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SwiftletError {
            throw SwiftletError("dockerfile parse error on line \(line.startLine): \(error.message)", code: error.code)
        }
    }

    private static func parseFrom(_ line: InstructionLine) throws -> FromInstruction {
        let words = ArgumentForms.fields(line.arguments)
        var stageName: String?
        if words.count == 3, words[1].lowercased() == "as" {
            let name = words[2].lowercased()
            guard isValidStageName(name) else {
                throw SwiftletError("invalid name for build stage: \(GoFormat.quote(words[2])), name can't start with a number or contain symbols", code: .invalidArgument)
            }
            stageName = name
        } else if words.count != 1 {
            throw SwiftletError("FROM requires either one or three arguments", code: .invalidArgument)
        }
        let flags = try BuildFlags(line.flags, accepted: ["platform"])
        return FromInstruction(baseName: words[0], stageName: stageName, platform: flags["platform"], line: line.startLine)
    }

    /// `^[a-z][a-z0-9-_.]*$`
    private static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    private static func parseInstruction(_ line: InstructionLine, escape: Character) throws -> Instruction {
        let keyword = line.keyword
        let arguments = line.arguments
        let noFlags: Set<String> = []
        switch keyword {
        case "run", "cmd", "entrypoint":
            _ = try BuildFlags(line.flags, accepted: noFlags)
            let form = try commandForm(arguments)
            return keyword == "run" ? .run(form) : keyword == "cmd" ? .cmd(form) : .entrypoint(form)
        case "copy", "add":
            let isAdd = keyword == "add"
            let (words, isJSON) = try ArgumentForms.jsonOrFields(arguments)
            guard words.count >= 2 else {
                throw SwiftletError("\(keyword.uppercased()) requires at least two arguments, but only one was provided. Destination could not be determined", code: .invalidArgument)
            }
            let flags = try BuildFlags(line.flags, accepted: isAdd ? ["chown", "chmod"] : ["chown", "chmod", "from"])
            return .copy(CopyInstruction(isAdd: isAdd, sources: Array(words.dropLast()), destination: words[words.count - 1],
                                         from: flags["from"].flatMap { $0.isEmpty ? nil : $0 },
                                         chown: flags["chown"].flatMap { $0.isEmpty ? nil : $0 },
                                         chmod: flags["chmod"].flatMap { $0.isEmpty ? nil : $0 }, isJSON: isJSON))
        case "env", "label":
            let pairs = try ArgumentForms.nameValues(arguments, instruction: keyword.uppercased(), escape: escape)
            _ = try BuildFlags(line.flags, accepted: noFlags)
            guard !pairs.isEmpty else { throw atLeastOneArgument(keyword) }
            guard pairs.allSatisfy({ !$0.key.isEmpty }) else {
                throw SwiftletError("\(keyword.uppercased()) names can not be blank", code: .invalidArgument)
            }
            return keyword == "env" ? .env(pairs) : .label(pairs)
        case "arg":
            let words = ArgumentForms.words(arguments, escape: escape)
            guard !words.isEmpty else { throw atLeastOneArgument(keyword) }
            _ = try BuildFlags(line.flags, accepted: noFlags)
            return .arg(try words.map { word in
                guard let equals = word.firstIndex(of: "=") else { return ArgDeclaration(name: word, defaultValue: nil) }
                guard equals != word.startIndex else { throw SwiftletError("ARG names can not be blank", code: .invalidArgument) }
                return ArgDeclaration(name: String(word[..<equals]), defaultValue: String(word[word.index(after: equals)...]))
            })
        case "workdir", "user", "stopsignal", "maintainer":
            guard !arguments.isEmpty else {
                throw SwiftletError("\(keyword.uppercased()) requires exactly one argument", code: .invalidArgument)
            }
            _ = try BuildFlags(line.flags, accepted: noFlags)
            switch keyword {
            case "workdir": return .workdir(arguments)
            case "user": return .user(arguments)
            case "stopsignal": return .stopSignal(arguments)
            default: return .maintainer(arguments)
            }
        case "expose":
            let ports = ArgumentForms.fields(arguments)
            guard !ports.isEmpty else { throw atLeastOneArgument(keyword) }
            _ = try BuildFlags(line.flags, accepted: noFlags)
            return .expose(ports.sorted())
        case "volume":
            let (words, _) = try ArgumentForms.jsonOrFields(arguments)
            guard !words.isEmpty else { throw atLeastOneArgument(keyword) }
            _ = try BuildFlags(line.flags, accepted: noFlags)
            return .volume(try words.map { word in
                let trimmed = word.trimmingWhitespace()
                guard !trimmed.isEmpty else { throw SwiftletError("VOLUME specified can not be an empty string", code: .invalidArgument) }
                return trimmed
            })
        case "shell":
            _ = try BuildFlags(line.flags, accepted: noFlags)
            guard let list = try ArgumentForms.jsonArray(arguments) else {
                if arguments.isEmpty { throw atLeastOneArgument(keyword) }
                throw SwiftletError("SHELL requires the arguments to be in JSON form", code: .invalidArgument)
            }
            guard !list.isEmpty else { throw atLeastOneArgument(keyword) }
            return .shell(list)
        case "healthcheck":
            return .healthcheck(try parseHealthcheck(line))
        case "onbuild":
            guard !arguments.isEmpty else { throw atLeastOneArgument(keyword) }
            _ = try BuildFlags(line.flags, accepted: noFlags)
            let trigger = try DockerfileLines.splitInstruction(arguments, startLine: line.startLine, endLine: line.endLine)
            switch trigger.keyword {
            case "onbuild": throw SwiftletError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", code: .invalidArgument)
            case "maintainer", "from": throw SwiftletError("\(trigger.keyword.uppercased()) isn't allowed as an ONBUILD trigger", code: .invalidArgument)
            default: break
            }
            return .onbuild(onbuildExpression(line.original))
        default:
            throw SwiftletError("unknown instruction: \(line.spelledKeyword.uppercased())", code: .invalidArgument)
        }
    }

    /// RUN's, CMD's and ENTRYPOINT's argument: the JSON form, else the whole text.
    private static func commandForm(_ arguments: String) throws -> CommandForm {
        guard !arguments.isEmpty else { return .shell("") }
        if let list = try ArgumentForms.jsonArray(arguments) { return .exec(list) }
        return .shell(arguments)
    }

    private static func parseHealthcheck(_ line: InstructionLine) throws -> HealthcheckInstruction {
        let arguments = line.arguments
        let type = String(arguments.prefix { !$0.isWhitespace })
        guard !type.isEmpty else { throw atLeastOneArgument("healthcheck") }
        let rest = arguments.dropFirst(type.count).trimmingLeadingWhitespace()
        if type.uppercased() == "NONE" {
            guard rest.isEmpty else { throw SwiftletError("HEALTHCHECK NONE takes no arguments", code: .invalidArgument) }
            return .none
        }
        let flags = try BuildFlags(line.flags, accepted: ["interval", "timeout", "start-period", "retries"])
        guard type.uppercased() == "CMD" else {
            throw SwiftletError("Unknown type \(GoFormat.quote(type.uppercased())) in HEALTHCHECK (try CMD)", code: .invalidArgument)
        }
        let test: [String]
        switch try commandForm(rest) {
        case .exec(let list):
            guard !list.isEmpty else { throw SwiftletError("Missing command after HEALTHCHECK CMD", code: .invalidArgument) }
            test = ["CMD"] + list
        case .shell(let text):
            guard !text.isEmpty else { throw SwiftletError("Missing command after HEALTHCHECK CMD", code: .invalidArgument) }
            test = ["CMD-SHELL", text]
        }
        var retries = 0
        if let text = flags["retries"], !text.isEmpty {
            guard let value = Int32(text) else {
                throw SwiftletError("strconv.ParseInt: parsing \(GoFormat.quote(text)): invalid syntax", code: .invalidArgument)
            }
            guard value >= 0 else { throw SwiftletError("--retries cannot be negative (\(value))", code: .invalidArgument) }
            retries = Int(value)
        }
        return .check(test: test, interval: try flags.interval("interval"), timeout: try flags.interval("timeout"),
                      startPeriod: try flags.interval("start-period"), retries: retries)
    }

    /// The trigger's text: the ONBUILD line without `ONBUILD` and the blanks after it.
    private static func onbuildExpression(_ original: String) -> String {
        let trimmed = original.trimmingLeadingWhitespace()
        return trimmed.dropFirst("onbuild".count).trimmingLeadingWhitespace()
    }

    private static func atLeastOneArgument(_ keyword: String) -> SwiftletError {
        SwiftletError("\(keyword.uppercased()) requires at least one argument", code: .invalidArgument)
    }
}

extension Dockerfile {
    /// A base image's ONBUILD triggers (``StageBuilder/inheritedTriggers``) parsed as
    /// instructions to dispatch before the stage's own; lines count the triggers from 1.
    public static func parseTriggers(_ triggers: [String], escape: Character) throws -> [LocatedInstruction] {
        try triggers.enumerated().map { offset, trigger in
            let line = try DockerfileLines.splitInstruction(trigger, startLine: offset + 1, endLine: offset + 1)
            guard !["onbuild", "from", "maintainer"].contains(line.keyword) else {
                throw SwiftletError("\(line.keyword.uppercased()) isn't allowed as an ONBUILD trigger", code: .invalidArgument)
            }
            return LocatedInstruction(instruction: try parseInstruction(line, escape: escape), line: offset + 1, original: trigger)
        }
    }
}
