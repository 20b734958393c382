import Builder
import HostSystem
import Testing

struct DockerfileParsingTests {
    static let multiStage = """
        # syntax=docker/dockerfile:1
        ARG BASE=alpine:3.20
        FROM ${BASE} AS Build
        ARG VERSION=1.0
        ENV APP_HOME=/app
        WORKDIR $APP_HOME
        COPY --chown=1000:1000 src/ ./src/
        RUN make VERSION=${VERSION}
        FROM build AS test
        RUN true
        FROM scratch
        ARG BASE
        COPY --from=build /app/bin/tool /usr/bin/tool
        USER 1000:1000

        """

    @Test func multiStageDockerfileHasGlobalArgsStagesAndTypedInstructions() throws {
        let dockerfile = try Dockerfile.parse(Self.multiStage)
        #expect(dockerfile.globalArgs == [ArgDeclaration(name: "BASE", defaultValue: "alpine:3.20")])
        #expect(dockerfile.stages.map(\.from.stageName) == ["build", "test", nil])
        #expect(dockerfile.stages.map(\.from.baseName) == ["${BASE}", "build", "scratch"])
        #expect(dockerfile.stages.map(\.from.line) == [3, 9, 11])
        let first = dockerfile.stages[0].instructions
        #expect(first.map(\.instruction) == [
            .arg([ArgDeclaration(name: "VERSION", defaultValue: "1.0")]),
            .env([KeyValue(key: "APP_HOME", value: "/app")]),
            .workdir("$APP_HOME"),
            .copy(CopyInstruction(isAdd: false, sources: ["src/"], destination: "./src/", from: nil, chown: "1000:1000", chmod: nil, isJSON: false)),
            .run(.shell("make VERSION=${VERSION}")),
        ])
        #expect(first.map(\.line) == [4, 5, 6, 7, 8])
        #expect(dockerfile.stages[2].instructions.map(\.instruction) == [
            .arg([ArgDeclaration(name: "BASE", defaultValue: nil)]),
            .copy(CopyInstruction(isAdd: false, sources: ["/app/bin/tool"], destination: "/usr/bin/tool", from: "build", chown: nil, chmod: nil, isJSON: false)),
            .user("1000:1000"),
        ])
        #expect(dockerfile.stage(named: "BUILD")?.index == 0)
        #expect(try dockerfile.stages(upTo: "test").map(\.index) == [0, 1])
        #expect(try dockerfile.stages(upTo: nil).count == 3)
        #expect(throws: SwiftletError("failed to reach build target nope in Dockerfile", code: .invalidArgument)) {
            try dockerfile.stages(upTo: "nope")
        }
    }

    @Test func continuationsSkipCommentsAndBlankLinesAndKeepIndentation() throws {
        let text = "FROM alpine\nRUN echo a \\\n# a comment\n    b \\\n\n  c\nUSER x\n"
        let dockerfile = try Dockerfile.parse(text)
        let instructions = dockerfile.stages[0].instructions
        #expect(instructions.map(\.instruction) == [.run(.shell("echo a     b   c")), .user("x")])
        #expect(instructions.map(\.line) == [2, 7])
        #expect(dockerfile.warnings.first == "[WARNING]: Empty continuation line found in:\n    RUN echo a     b   c")
    }

    @Test func escapeDirectiveWithBacktickMakesWindowsPathsLiteral() throws {
        let text = "# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\ `\n  && echo done\n"
        let dockerfile = try Dockerfile.parse(text)
        #expect(dockerfile.escape == "`")
        #expect(dockerfile.stages[0].instructions.map(\.instruction) == [
            .copy(CopyInstruction(isAdd: false, sources: ["testfile.txt"], destination: "c:\\", from: nil, chown: nil, chmod: nil, isJSON: false)),
            .run(.shell("dir c:\\   && echo done")),
        ])
    }

    @Test func directiveAfterAnythingElseIsAComment() throws {
        let dockerfile = try Dockerfile.parse("FROM a\n# escape=`\nRUN a `\n")
        #expect(dockerfile.escape == "\\")
        #expect(dockerfile.stages[0].instructions.map(\.instruction) == [.run(.shell("a `"))])
    }

    @Test func namesAreCaseInsensitiveAndByteOrderMarkAndCRLFAreRead() throws {
        let dockerfile = try Dockerfile.parse("\u{FEFF}from alpine As Base\r\nrun echo b\r\nOnBuild   RUN echo hi\r\n")
        #expect(dockerfile.stages[0].from.stageName == "base")
        #expect(dockerfile.stages[0].instructions.map(\.instruction) == [.run(.shell("echo b")), .onbuild("RUN echo hi")])
    }

    @Test func jsonFormAndItsShellFallback() throws {
        let dockerfile = try Dockerfile.parse("""
            FROM a
            CMD ["a", 'b']
            ENTRYPOINT []
            RUN ["echo", "hi"]
            ADD ["a b", "/c/"]
            VOLUME /data /logs
            SHELL ["/bin/bash", "-c"]
            ENV A="x y" B=z
            ENV C hello  world
            LABEL "com.example"="v 1"
            HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1
            HEALTHCHECK --retries=3 CMD ["/bin/check"]
            HEALTHCHECK none
            EXPOSE 80 443/udp
            """)
        #expect(dockerfile.stages[0].instructions.map(\.instruction) == [
            .cmd(.shell("[\"a\", 'b']")),
            .entrypoint(.exec([])),
            .run(.exec(["echo", "hi"])),
            .copy(CopyInstruction(isAdd: true, sources: ["a b"], destination: "/c/", from: nil, chown: nil, chmod: nil, isJSON: true)),
            .volume(["/data", "/logs"]),
            .shell(["/bin/bash", "-c"]),
            .env([KeyValue(key: "A", value: "\"x y\""), KeyValue(key: "B", value: "z")]),
            .env([KeyValue(key: "C", value: "hello  world")]),
            .label([KeyValue(key: "\"com.example\"", value: "\"v 1\"")]),
            .healthcheck(.check(test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], interval: 300_000_000_000, timeout: 3_000_000_000, startPeriod: 0, retries: 0)),
            .healthcheck(.check(test: ["CMD", "/bin/check"], interval: 0, timeout: 0, startPeriod: 0, retries: 3)),
            .healthcheck(.none),
            .expose(["443/udp", "80"]),
        ])
    }

    @Test(arguments: [
        ("FROM a\nFOO bar\n", "dockerfile parse error on line 2: unknown instruction: FOO"),
        ("FROM a\nfoo bar\n", "dockerfile parse error on line 2: unknown instruction: FOO"),
        ("", "Dockerfile cannot be empty"),
        ("# just a comment\n\n", "Dockerfile cannot be empty"),
        ("RUN x\nFROM a\n", "no build stage in current context"),
        ("# escape=x\nFROM a\n", "dockerfile parse error on line 1: invalid escape token 'x' does not match ` or \\"),
        ("# escape=`\n# escape=\\\nFROM a\n", "dockerfile parse error on line 2: only one escape parser directive can be used"),
        ("FROM a\nCMD [\"a\", 1]\n", "dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only"),
        ("FROM a\nONBUILD ONBUILD RUN x\n", "dockerfile parse error on line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("FROM a\nONBUILD FROM b\n", "dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nONBUILD maintainer me\n", "dockerfile parse error on line 2: MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("FROM a\nCOPY onlyone\n", "dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("FROM a AS 1x\n", "dockerfile parse error on line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"),
        ("FROM a b\n", "dockerfile parse error on line 1: FROM requires either one or three arguments"),
        ("FROM a\nENV A\n", "dockerfile parse error on line 2: ENV must have two arguments"),
        ("FROM a\nLABEL a=b c\n", "dockerfile parse error on line 2: Syntax error - can't find = in \"c\". Must be of the form: name=value"),
        ("FROM a\nSHELL /bin/bash -c\n", "dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form"),
        ("FROM a\nCOPY --foo=x a b\n", "dockerfile parse error on line 2: unknown flag: foo"),
        ("FROM a\nCOPY --chown a b\n", "dockerfile parse error on line 2: missing a value on flag: chown"),
        ("FROM a\nCOPY --from=x --from=y a b\n", "dockerfile parse error on line 2: duplicate flag specified: from"),
        ("FROM a\nHEALTHCHECK --interval=1us CMD x\n", "dockerfile parse error on line 2: Interval \"interval\" cannot be less than 1ms"),
        ("FROM a\nHEALTHCHECK FOO x\n", "dockerfile parse error on line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)"),
        ("FROM a\nHEALTHCHECK NONE x\n", "dockerfile parse error on line 2: HEALTHCHECK NONE takes no arguments"),
        ("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "dockerfile parse error on line 2: --retries cannot be negative (-1)"),
        ("FROM a\nWORKDIR\n", "dockerfile parse error on line 2: WORKDIR requires exactly one argument"),
        ("FROM a\nEXPOSE\n", "dockerfile parse error on line 2: EXPOSE requires at least one argument"),
        ("FROM a\nARG =x\n", "dockerfile parse error on line 2: ARG names can not be blank"),
    ])
    func errorsUseDockersWording(text: String, message: String) {
        #expect(throws: SwiftletError(message, code: .invalidArgument)) { try Dockerfile.parse(text) }
    }

    @Test func runMountNeedsBuildKit() throws {
        let error = try #require(throws: SwiftletError.self) { try Dockerfile.parse("FROM a\nRUN --mount=type=cache,target=/x make\n") }
        #expect(error.code == .notImplemented)
        #expect(error.message.hasPrefix("dockerfile parse error on line 2: the --mount option requires BuildKit"))
    }

    @Test func onbuildTriggersOfABaseImageParse() throws {
        let triggers = try Dockerfile.parseTriggers(["RUN echo x", "COPY a /b"], escape: "\\")
        #expect(triggers.map(\.instruction) == [
            .run(.shell("echo x")),
            .copy(CopyInstruction(isAdd: false, sources: ["a"], destination: "/b", from: nil, chown: nil, chmod: nil, isJSON: false)),
        ])
        #expect(throws: SwiftletError("FROM isn't allowed as an ONBUILD trigger", code: .invalidArgument)) {
            try Dockerfile.parseTriggers(["FROM x"], escape: "\\")
        }
    }
}
