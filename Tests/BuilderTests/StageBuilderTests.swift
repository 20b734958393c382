import Builder
import HostSystem
import Images
import Testing

/// Config effects and history text of each instruction, as dockerd 20.10's classic builder
/// writes them.
struct StageBuilderTests {
    /// A stage of `body` on a base with `base`'s config, and the steps of its instructions.
    private func dispatch(_ body: String, base: ImageConfig.Runtime? = nil, options: [String: String] = [:]) throws -> (StageBuilder, [BuildStep]) {
        let dockerfile = try Dockerfile.parse("FROM base\n" + body)
        var builder = StageBuilder(dockerfile: dockerfile, stageIndex: 0, base: base,
                                   arguments: try BuildArguments(options: options, dockerfile: dockerfile))
        let steps = try dockerfile.stages[0].instructions.map { try builder.dispatch($0.instruction) }
        return (builder, steps)
    }

    private func runtime(env: [String], cmd: [String]? = nil) -> ImageConfig.Runtime {
        var config = ImageConfig.Runtime()
        config.Env = env
        config.Cmd = cmd
        return config
    }

    @Test func multiStageBuildExpandsArgsEnvAndWorkdir() throws {
        let dockerfile = try Dockerfile.parse(DockerfileParsingTests.multiStage)
        let arguments = try BuildArguments(options: ["VERSION": "2.0", "UNUSED": "x"], dockerfile: dockerfile)
        #expect(try arguments.resolveBase(of: dockerfile.stages[0], in: dockerfile).base == .image("alpine:3.20"))
        #expect(try arguments.resolveBase(of: dockerfile.stages[1], in: dockerfile).base == .stage(0))
        #expect(try arguments.resolveBase(of: dockerfile.stages[2], in: dockerfile).base == .scratch)
        let overridden = try BuildArguments(options: ["BASE": "debian:12"], dockerfile: dockerfile)
        #expect(try overridden.resolveBase(of: dockerfile.stages[0], in: dockerfile).base == .image("debian:12"))

        var build = StageBuilder(dockerfile: dockerfile, stageIndex: 0, base: runtime(env: ["PATH=/usr/bin"]), arguments: arguments)
        let steps = try dockerfile.stages[0].instructions.map { try build.dispatch($0.instruction) }
        #expect(steps[0] == .metadata(createdBy: "/bin/sh -c #(nop)  ARG VERSION=1.0"))
        #expect(steps[1] == .metadata(createdBy: "/bin/sh -c #(nop)  ENV APP_HOME=/app"))
        #expect(steps[2] == .workdir(path: "/app", createdBy: "/bin/sh -c #(nop) WORKDIR /app"))
        let copy = CopyStep(isAdd: false, source: .context, sources: ["src/"], destination: "/app/src/", chown: "1000:1000", chmod: nil,
                            writtenDestination: "./src/", shell: ["/bin/sh", "-c"])
        #expect(steps[3] == .copy(copy))
        #expect(copy.createdBy(sourceLabel: "dir:abc") == "/bin/sh -c #(nop) COPY --chown=1000:1000dir:abc in ./src/ ")
        #expect(steps[4] == .run(RunStep(argv: ["/bin/sh", "-c", "make VERSION=${VERSION}"],
                                         environment: ["PATH=/usr/bin", "APP_HOME=/app", "VERSION=2.0"],
                                         user: "", workingDirectory: "/app",
                                         createdBy: "|1 VERSION=2.0 /bin/sh -c make VERSION=${VERSION}")))
        #expect(build.config.Env == ["PATH=/usr/bin", "APP_HOME=/app"])
        #expect(build.arguments.unconsumed == ["UNUSED"])

        var final = StageBuilder(dockerfile: dockerfile, stageIndex: 2, base: nil, arguments: build.arguments)
        let finalSteps = try dockerfile.stages[2].instructions.map { try final.dispatch($0.instruction) }
        #expect(finalSteps[0] == .metadata(createdBy: "/bin/sh -c #(nop)  ARG BASE"))
        #expect(final.expansionEnvironment["BASE"] == "alpine:3.20")
        guard case .copy(let fromStage) = finalSteps[1] else {
            Issue.record("COPY --from=build is not a copy: \(finalSteps[1])")
            return
        }
        #expect(fromStage.source == .stage(0))
        #expect(fromStage.destination == "/usr/bin/tool")
        #expect(final.config.User == "1000:1000")
        #expect(final.config.Env == ["PATH=\(StageBuilder.defaultPath)"])
    }

    @Test func copyFromNamesStagesByIndexOrImagesAndRejectsLaterStages() throws {
        let dockerfile = try Dockerfile.parse("FROM a AS one\nFROM b\nCOPY --from=0 /x /y\nCOPY --from=busybox:1 /bin/sh /bin/\nCOPY --from=1 /x /y\nCOPY --from=7 /x /y\n")
        var builder = StageBuilder(dockerfile: dockerfile, stageIndex: 1, base: nil, arguments: BuildArguments(options: [:]))
        let instructions = dockerfile.stages[1].instructions.map(\.instruction)
        guard case .copy(let byIndex) = try builder.dispatch(instructions[0]), case .copy(let byImage) = try builder.dispatch(instructions[1]) else {
            Issue.record("COPY did not make copy steps")
            return
        }
        #expect(byIndex.source == .stage(0))
        #expect(byImage.source == .image("busybox:1"))
        #expect(byImage.destination == "/bin/")
        #expect(throws: SwiftletError("invalid from flag value 1: refers to current build stage", code: .invalidArgument)) {
            try builder.dispatch(instructions[2])
        }
        #expect(throws: SwiftletError("invalid from flag value 7: index out of bounds", code: .invalidArgument)) {
            try builder.dispatch(instructions[3])
        }
    }

    @Test func envReplacesAnExistingKeyAndExpandsWithTheValuesBeforeIt() throws {
        let (builder, steps) = try dispatch("ENV A=2 B=\"x y\" C=$A\nENV D $B  and more\n", base: runtime(env: ["PATH=/bin", "A=1"]))
        #expect(builder.config.Env == ["PATH=/bin", "A=2", "B=x y", "C=1", "D=x y  and more"])
        #expect(steps == [.metadata(createdBy: "/bin/sh -c #(nop)  ENV A=2 B=x y C=1"),
                          .metadata(createdBy: "/bin/sh -c #(nop)  ENV D=x y  and more")])
    }

    @Test func workdirIsRelativeToThePreviousOne() throws {
        let (builder, steps) = try dispatch("WORKDIR /a\nWORKDIR b\nWORKDIR ../c\nCOPY x .\n")
        #expect(steps.prefix(3).compactMap(\.createdBy) == ["/bin/sh -c #(nop) WORKDIR /a", "/bin/sh -c #(nop) WORKDIR /a/b", "/bin/sh -c #(nop) WORKDIR /a/c"])
        #expect(builder.config.WorkingDir == "/a/c")
        guard case .copy(let copy) = steps[3] else {
            Issue.record("COPY did not make a copy step")
            return
        }
        #expect(copy.destination == "/a/c")
    }

    @Test func entrypointClearsTheInheritedCmdButNotOneSetInTheStage() throws {
        let inherited = try dispatch("ENTRYPOINT [\"/bin/tool\"]\n", base: runtime(env: [], cmd: ["base"])).0
        #expect(inherited.config.Entrypoint == ["/bin/tool"])
        #expect(inherited.config.Cmd == nil)
        let (own, steps) = try dispatch("CMD [\"--help\"]\nENTRYPOINT /bin/tool run\n", base: runtime(env: [], cmd: ["base"]))
        #expect(own.config.Cmd == ["--help"])
        #expect(own.config.Entrypoint == ["/bin/sh", "-c", "/bin/tool run"])
        #expect(steps == [.metadata(createdBy: "/bin/sh -c #(nop)  CMD [\"--help\"]"),
                          .metadata(createdBy: "/bin/sh -c #(nop)  ENTRYPOINT [\"/bin/sh\" \"-c\" \"/bin/tool run\"]")])
        let cleared = try dispatch("ENTRYPOINT []\n", base: runtime(env: [])).1
        #expect(cleared == [.metadata(createdBy: "/bin/sh -c #(nop)  ENTRYPOINT []")])
    }

    @Test func shellFormUsesTheStageShell() throws {
        let (builder, steps) = try dispatch("SHELL [\"/bin/bash\", \"-c\"]\nCMD echo \"hi\"\nRUN echo hi\n")
        #expect(builder.config.Shell == ["/bin/bash", "-c"])
        #expect(builder.config.Cmd == ["/bin/bash", "-c", "echo \"hi\""])
        #expect(steps[0] == .metadata(createdBy: "/bin/bash -c #(nop)  SHELL [/bin/bash -c]"))
        #expect(steps[1] == .metadata(createdBy: "/bin/bash -c #(nop)  CMD [\"/bin/bash\" \"-c\" \"echo \\\"hi\\\"\"]"))
        #expect(steps[2].createdBy == "/bin/bash -c echo hi")
    }

    @Test func historyQuotesCommandsAsGoDoes() throws {
        let steps = try dispatch("CMD [\"tab\\there\", \"é ☺\", \"\\u0001\", \"back\\\\slash\"]\n").1
        #expect(steps == [.metadata(createdBy: "/bin/sh -c #(nop)  CMD [\"tab\\there\" \"é ☺\" \"\\x01\" \"back\\\\slash\"]")])
    }

    @Test func exposeLabelVolumeUserStopSignalAndMaintainer() throws {
        let body = """
            ENV PORTS="9000 9001" NAME=app
            EXPOSE 80 443/udp 8000-8002 $PORTS
            LABEL "com.example.vendor"="ACME Inc" version=1.0
            VOLUME ["/data", "/logs"]
            USER $NAME
            STOPSIGNAL SIGKILL
            MAINTAINER Jane <jane@example.com>

            """
        let (builder, steps) = try dispatch(body)
        #expect(Set(builder.config.ExposedPorts?.keys ?? [:].keys) == ["80/tcp", "443/udp", "8000/tcp", "8001/tcp", "8002/tcp", "9000/tcp", "9001/tcp"])
        #expect(builder.config.Labels == ["com.example.vendor": "ACME Inc", "version": "1.0"])
        #expect(Set(builder.config.Volumes?.keys ?? [:].keys) == ["/data", "/logs"])
        #expect(builder.config.User == "app")
        #expect(builder.config.StopSignal == "SIGKILL")
        #expect(builder.author == "Jane <jane@example.com>")
        #expect(steps.compactMap(\.createdBy).dropFirst() == [
            "/bin/sh -c #(nop)  EXPOSE 9000 9001 443/udp 80 8000-8002",
            "/bin/sh -c #(nop)  LABEL com.example.vendor=ACME Inc version=1.0",
            "/bin/sh -c #(nop)  VOLUME [/data /logs]",
            "/bin/sh -c #(nop)  USER app",
            "/bin/sh -c #(nop)  STOPSIGNAL SIGKILL",
            "/bin/sh -c #(nop)  MAINTAINER Jane <jane@example.com>",
        ])
        let entry = builder.historyEntry(createdBy: "x", created: "2026-01-01T00:00:00Z", emptyLayer: true)
        #expect(entry == ImageConfig.History(created: "2026-01-01T00:00:00Z", created_by: "x", author: "Jane <jane@example.com>", empty_layer: true))
        #expect(throws: SwiftletError("invalid proto: icmp", code: .invalidArgument)) { try dispatch("EXPOSE 80/icmp\n") }
    }

    @Test func healthchecksAreStoredAsDockerStoresThem() throws {
        let (builder, steps) = try dispatch("""
            HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1
            HEALTHCHECK --retries=3 --start-period=1500ms CMD ["/bin/check"]
            HEALTHCHECK NONE

            """)
        #expect(steps.compactMap(\.createdBy) == [
            "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f http://localhost/ || exit 1\"] \"5m0s\" \"3s\" \"0s\" '\\x00'}",
            "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD\" \"/bin/check\"] \"0s\" \"0s\" \"1.5s\" '\\x03'}",
            "/bin/sh -c #(nop)  HEALTHCHECK &{[\"NONE\"] \"0s\" \"0s\" \"0s\" '\\x00'}",
        ])
        #expect(builder.config.Healthcheck == ImageConfig.HealthConfig(Test: ["NONE"]))
        let shellForm = try dispatch("HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/\n").0
        #expect(shellForm.config.Healthcheck == ImageConfig.HealthConfig(Test: ["CMD-SHELL", "curl -f http://localhost/"],
                                                                        Interval: 300_000_000_000, Timeout: 3_000_000_000))
    }

    @Test func onbuildIsStoredAndABaseImagesTriggersAreTakenOut() throws {
        var base = runtime(env: ["PATH=/bin"])
        base.OnBuild = ["RUN echo inherited"]
        let (builder, steps) = try dispatch("ONBUILD RUN echo hi\n", base: base)
        #expect(builder.inheritedTriggers == ["RUN echo inherited"])
        #expect(builder.config.OnBuild == ["RUN echo hi"])
        #expect(steps == [.metadata(createdBy: "/bin/sh -c #(nop)  ONBUILD RUN echo hi")])
    }

    @Test func runHistoryShowsDeclaredBuildArgsOnly() throws {
        let exec = try dispatch("RUN [\"echo\", \"hi\"]\n").1
        #expect(exec.first?.createdBy == "echo hi")
        let proxyOnly = try dispatch("RUN echo hi\n", options: ["HTTP_PROXY": "http://proxy:3128"]).1
        guard case .run(let run) = proxyOnly.first else {
            Issue.record("RUN did not make a run step")
            return
        }
        #expect(run.createdBy == "|0 /bin/sh -c echo hi")
        #expect(run.environment == ["PATH=\(StageBuilder.defaultPath)", "HTTP_PROXY=http://proxy:3128"])
        let declared = try dispatch("ARG HTTP_PROXY\nARG B=2\nRUN echo hi\n", options: ["HTTP_PROXY": "http://p"]).1
        #expect(declared.last?.createdBy == "|2 B=2 HTTP_PROXY=http://p /bin/sh -c echo hi")
        let shadowed = try dispatch("ARG A=1\nENV A=2\nRUN echo $A\n").1
        guard case .run(let shadowedRun) = shadowed.last else {
            Issue.record("RUN did not make a run step")
            return
        }
        #expect(shadowedRun.createdBy == "/bin/sh -c echo $A")
        #expect(shadowedRun.environment == ["PATH=\(StageBuilder.defaultPath)", "A=2"])
    }

    @Test func globalArgsNeedRedeclaringInsideAStage() throws {
        let dockerfile = try Dockerfile.parse("ARG V=1\nARG W=${V}.5\nFROM base:$W\nRUN echo $V\nARG V\nUSER u$V\n")
        let arguments = try BuildArguments(options: [:], dockerfile: dockerfile)
        #expect(try arguments.resolveBase(of: dockerfile.stages[0], in: dockerfile).base == .image("base:1.5"))
        var builder = StageBuilder(dockerfile: dockerfile, stageIndex: 0, base: nil, arguments: arguments)
        let before = builder.expansionEnvironment
        #expect(before["V"] == nil)
        let steps = try dockerfile.stages[0].instructions.map { try builder.dispatch($0.instruction) }
        #expect(steps[0].createdBy == "/bin/sh -c echo $V")
        #expect(builder.config.User == "u1")
    }

    @Test func copyChecksItsExpandedArguments() throws {
        #expect(throws: SwiftletError("When using COPY with more than one source file, the destination must be a directory and end with a /", code: .invalidArgument)) {
            try dispatch("COPY a b /dst\n")
        }
        #expect(throws: SwiftletError("invalid chmod parameter: 0999", code: .invalidArgument)) { try dispatch("COPY --chmod=0999 a /dst\n") }
        let (_, steps) = try dispatch("ENV OWNER=app\nADD --chown=$OWNER --chmod=755 a.tar /opt/\n")
        guard case .copy(let add) = steps[1] else {
            Issue.record("ADD did not make a copy step")
            return
        }
        #expect(add.isAdd && add.chown == "app" && add.chmod == 0o755 && add.destination == "/opt/")
        #expect(add.createdBy(sourceLabel: "file:0123") == "/bin/sh -c #(nop) ADD --chown=appfile:0123 in /opt/ ")
    }
}
