import Builder

/// Fuzzes the Dockerfile front half (Sources/Builder): the input, as UTF-8 text, is parsed as
/// a Dockerfile and, when it parses, every stage is resolved and dispatched with a build
/// argument set; it is also expanded as a word, read as a .dockerignore file, matched as
/// paths, and its lines resolved as COPY sources. Each must return or throw, never crash; a
/// parsed Dockerfile has a stage, every dispatched step but COPY has its history text, and
/// resolved sources are never empty.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let dockerfile = try? Dockerfile.parse(text) {
        precondition(!dockerfile.stages.isEmpty, "a parsed Dockerfile without stages: \(text)")
        dispatchAll(dockerfile)
    }
    let expander = WordExpander(escape: size % 2 == 0 ? "\\" : "`")
    _ = try? expander.expand(text, environment: ["A": "a b", "EMPTY": "", "HOME": "/root"])
    _ = try? expander.expandToWords(text, environment: ["A": "a b", "EMPTY": ""])
    let lines = text.split(separator: "\n").map(String.init)
    if let ignore = try? DockerIgnore(parsing: text) {
        for path in ["a", "a/b", "dir/file.txt", ".dockerignore", "Dockerfile"] + lines {
            _ = ignore.excludes(path)
        }
    }
    if let sources = try? CopySources.resolve(lines, among: ["a", "a/b", "dir", "dir/file.txt"] + lines, isAdd: true) {
        precondition(!sources.isEmpty, "COPY sources resolved to nothing: \(lines)")
    }
    return 0
}

private func dispatchAll(_ dockerfile: Dockerfile) {
    guard let arguments = try? BuildArguments(options: ["A": "1", "HTTP_PROXY": "http://proxy"], dockerfile: dockerfile) else { return }
    for stage in dockerfile.stages {
        _ = try? arguments.resolveBase(of: stage, in: dockerfile)
        var builder = StageBuilder(dockerfile: dockerfile, stageIndex: stage.index, base: nil, arguments: arguments)
        for located in stage.instructions {
            guard let step = try? builder.dispatch(located.instruction) else { continue }
            if case .copy(let copy) = step {
                _ = copy.createdBy(sourceLabel: "file:0")
            } else {
                precondition(step.createdBy != nil, "no history text for \(located.original)")
            }
        }
        _ = try? Dockerfile.parseTriggers(builder.config.OnBuild ?? [], escape: dockerfile.escape)
    }
}
