import Foundation
import Runtime
import Testing

/// `swiftlet build` (issue #14) under each isolation: a multi-stage Dockerfile with ARG,
/// ENV, WORKDIR, USER, COPY --from, RUN and a .dockerignore; the cache on an unchanged and
/// on a touched rebuild; and Docker's messages for the build errors, which leave no
/// container behind.
@Suite(.serialized) struct BuildTests {
    static let dockerfile = """
        # syntax and comments are ignored
        ARG BASE=swiftlet-test/busybox
        FROM ${BASE} AS build
        ARG GREETING=hello
        ENV APP=/app \\
            MODE=test
        WORKDIR $APP
        COPY . ./src/
        RUN echo "$GREETING from $MODE" > built.txt && ls src > listing.txt
        FROM swiftlet-test/busybox
        LABEL org.example.kind=test
        WORKDIR /out
        COPY --from=build /app/built.txt /app/listing.txt ./
        COPY --chown=1000:1000 data.txt owned.txt
        USER 1000
        EXPOSE 8080/tcp
        CMD ["cat", "/out/built.txt"]
        """

    /// A context directory with the Dockerfile, a data file and an ignored one. The data
    /// file's content is new each time, so no earlier run's cache applies.
    private func makeContext() throws -> String {
        let context = NSTemporaryDirectory() + "build-context-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try Data(Self.dockerfile.utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        try Data("data \(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: "\(context)/data.txt"))
        try Data("never sent\n".utf8).write(to: URL(fileURLWithPath: "\(context)/ignored.log"))
        try Data("*.log\n".utf8).write(to: URL(fileURLWithPath: "\(context)/.dockerignore"))
        return context
    }

    private func build(_ isolation: Isolation, _ arguments: String...) throws -> CommandResult {
        try Swiftlet.execute([Swiftlet.executable, "build", "--isolation", isolation.rawValue, "--network", "none"] + arguments,
                             root: try Swiftlet.root.get())
    }

    @Test(arguments: TestIsolation.available)
    func aMultiStageBuildRunsAndIsCached(isolation: Isolation) throws {
        let context = try makeContext()
        let image = "swiftlet-test/built-\(isolation.rawValue)-\(UUID().uuidString.prefix(6).lowercased())"
        defer { try? FileManager.default.removeItem(atPath: context); _ = try? swiftlet("rmi", image) }

        let first = try build(isolation, "-t", image, "--build-arg", "GREETING=hi", context)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("Step 1/14 : FROM ${BASE} AS build") && first.stdout.contains("Successfully tagged \(image)"))
        let run = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", image)
        #expect(run.stdout == "hi from test\n", "\(run.stderr)")
        let look = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", image, "sh", "-c",
                                "id -u; pwd; cat listing.txt; stat -c '%u:%g %n' owned.txt")
        #expect(look.stdout == "1000\n/out\nDockerfile\ndata.txt\n1000:1000 owned.txt\n", "\(look.stdout) \(look.stderr)")

        let inspect = try swiftlet("image", "inspect", image).stdout
        for field in ["\"User\" : \"1000\"", "\"WorkingDir\" : \"/out\"", "\"8080/tcp\" : {", "\"org.example.kind\" : \"test\""] {
            #expect(inspect.contains(field), "\(field) missing in \(inspect)")
        }
        // One history line per instruction of the final stage, plus busybox's layer.
        let history = try swiftlet("history", "-q", image).stdout.split(separator: "\n")
        #expect(history.count == 8, "\(history)")

        // Unchanged: every step from the cache, nothing run.
        let again = try build(isolation, "-t", image, "--build-arg", "GREETING=hi", context)
        #expect(again.status == 0 && again.stdout.components(separatedBy: "Using cache").count - 1 == 12, "\(again.stdout)")
        #expect(!again.stdout.contains("Running in"))

        // data.txt changed: the first stage's COPY . and RUN rerun, and the second stage
        // from its COPY of data.txt on (its COPY --from copies unchanged files: cached).
        try Data("changed \(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: "\(context)/data.txt"))
        let touched = try build(isolation, "-t", image, "--build-arg", "GREETING=hi", context)
        #expect(touched.status == 0, "\(touched.stderr)")
        let cachedSteps = touched.stdout.components(separatedBy: "Step ").dropFirst().filter { $0.contains("Using cache") }
            .map { String($0.prefix { $0 != " " }) }
        #expect(cachedSteps == ["2/14", "3/14", "4/14", "8/14", "9/14", "10/14"], "\(touched.stdout)")
    }

    @Test(arguments: TestIsolation.available)
    func buildErrorsStopWithDockersMessageAndLeaveNothing(isolation: Isolation) throws {
        let context = NSTemporaryDirectory() + "build-errors-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: context) }
        let containersBefore = Set(try swiftlet("ps", "-a", "-q").stdout.split(separator: "\n"))
        let cases: [(dockerfile: String, status: Int32, message: String)] = [
            ("FROM swiftlet-test/busybox\nFOO bar\n", 125, "dockerfile parse error on line 2: unknown instruction: FOO"),
            ("FROM swiftlet-test/busybox\nRUN echo partial > /p && exit 7\n", 7, "The command '/bin/sh -c echo partial > /p && exit 7' returned a non-zero code: 7"),
            ("FROM swiftlet-test/busybox\nCOPY missing.txt /\n", 1, "file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"),
            ("FROM swiftlet-test/busybox\nCOPY --from=7 /x /\n", 125, "invalid from flag value 7: index out of bounds"),
        ]
        for item in cases {
            try Data(item.dockerfile.utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
            let tag = "swiftlet-test/failed-\(UUID().uuidString.prefix(6).lowercased())"
            let result = try build(isolation, "-t", tag, context)
            #expect(result.status == item.status && result.stderr.contains(item.message), "\(item.dockerfile): \(result.status) \(result.stderr)")
            #expect(!(try swiftlet("images").stdout.contains(tag)), "a failed build tagged \(tag)")
        }
        try Data("FROM swiftlet-test/busybox AS one\nRUN true\n".utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        let target = try build(isolation, "--target", "nosuchstage", context)
        #expect(target.status == 125 && target.stderr.contains("failed to reach build target nosuchstage in Dockerfile"), "\(target.stderr)")
        // Other suites make containers in this root meanwhile: what is new must not be a build's.
        for id in Set(try swiftlet("ps", "-a", "-q").stdout.split(separator: "\n")).subtracting(containersBefore) {
            let args = (try inspected(String(id), section: "config")?["process"] as? [String: Any])?["args"] as? [String] ?? []
            #expect(!args.joined(separator: " ").contains("echo partial > /p"), "a failed build left container \(id)")
        }
    }

    /// COPY never writes through a link: not one an earlier source laid down (a context
    /// link to the host's /etc/passwd, then a file of the same name), and a destination
    /// under a link of the image lands where the link points inside the image.
    @Test(arguments: TestIsolation.namespaces)
    func copyFollowsLinksOnlyInsideTheImage(isolation: Isolation) throws {
        let context = NSTemporaryDirectory() + "build-links-\(UUID().uuidString.prefix(8))"
        let image = "swiftlet-test/links-\(UUID().uuidString.prefix(6).lowercased())"
        defer { try? FileManager.default.removeItem(atPath: context); _ = try? swiftlet("rmi", image) }
        try FileManager.default.createDirectory(atPath: "\(context)/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(context)/b", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(context)/a/passwd", withDestinationPath: "/etc/passwd")
        try Data("from b \(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: "\(context)/b/passwd"))
        try Data("""
            FROM swiftlet-test/busybox
            RUN mkdir -p /usr/real && ln -s usr/real /linked
            COPY a b /app/
            COPY b/passwd /linked/
            """.utf8).write(to: URL(fileURLWithPath: "\(context)/Dockerfile"))
        let hostPasswd = try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd"))
        let result = try build(isolation, "-t", image, context)
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "/etc/passwd")) == hostPasswd, "the build wrote the host's /etc/passwd")
        let look = try swiftlet("run", "--rm", "--isolation", isolation.rawValue, "--network", "none", image, "sh", "-c",
                                "head -c 6 /app/passwd; echo; test -L /linked && echo link; head -c 6 /usr/real/passwd; echo")
        #expect(look.stdout == "from b\nlink\nfrom b\n", "\(look.stdout) \(look.stderr)")
    }
}
