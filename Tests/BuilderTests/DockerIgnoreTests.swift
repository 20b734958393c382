import Builder
import Foundation
import HostSystem
import Testing

/// .dockerignore semantics, with cases from moby/patternmatcher's patternmatcher_test.go
/// (TestMatches, TestMatch and the single-purpose tests) and ignorefile_test.go.
struct DockerIgnoreTests {
    @Test(arguments: [
        ("**", "file", true), ("**", "file/", true), ("**/", "file", true), ("**/", "file/", true), ("**", "/", true),
        ("**/", "/", true), ("**", "dir/file", true), ("**/", "dir/file", true), ("**", "dir/file/", true),
        ("**/", "dir/file/", true), ("**/**", "dir/file", true), ("**/**", "dir/file/", true), ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true), ("dir/**", "dir/dir2/file", true), ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true), ("**/dir", "dir/file", true), ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true), ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true), ("**file", "file", true), ("**file", "dir/file", true),
        ("**/file", "dir/file", true), ("**file", "dir/dir/file", true), ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true), ("**/file*", "dir/dir/file.txt", true), ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true), ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true), ("**/**/*.txt2", "dir/dir/file.txt", false), ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true), ("a**/*.txt", "a/file.txt", true), ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true), ("a/*.txt", "a/dir/file.txt", false), ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true), ("a[b-d]e", "ae", false), ("a[b-d]e", "ace", true), ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true), (".*", ".foo", true), (".*", "foo", false), ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true), ("abc.def", "abcZdef", false), ("abc?def", "abcZdef", true), ("abc?def", "abcdef", false),
        ("**/foo/bar", "foo/bar", true), ("**/foo/bar", "dir/foo/bar", true), ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false), ("abc/**", "abc/def", true), ("abc/**", "abc/def/ghi", true), ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false), ("a(b)c/def", "a(b)c/def", true), ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true), ("a\\\\", "a\\", true), ("a\\*b", "a*b", true),
    ])
    func patternMatchesPathOrParent(pattern: String, path: String, excluded: Bool) throws {
        #expect(try DockerIgnore(patterns: [pattern]).excludes(path) == excluded)
    }

    /// Go's filepath.Match cases that patternmatcher's TestMatch runs through its matcher.
    @Test(arguments: [
        ("abc", "abc", true), ("*", "abc", true), ("*c", "abc", true), ("a*", "a", true), ("a*", "abc", true), ("a*", "ab/c", true),
        ("a*/b", "abc/b", true), ("a*/b", "a/c/b", false), ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false), ("a*b?c*x", "abxbbxdbxebxczzx", true), ("a*b?c*x", "abxbbxdbxebxczzy", false),
        ("ab[c]", "abc", true), ("ab[b-d]", "abc", true), ("ab[e-g]", "abc", false), ("ab[^c]", "abc", false),
        ("ab[^b-d]", "abc", false), ("ab[^e-g]", "abc", true), ("a\\*b", "ab", false), ("a?b", "a☺b", true),
        ("a[^a]b", "a☺b", true), ("a???b", "a☺b", false), ("a[^a][^a][^a]b", "a☺b", false), ("[a-ζ]*", "α", true),
        ("*[a-ζ]", "A", false), ("a?b", "a/b", false), ("a*b", "a/b", false), ("[\\]a]", "]", true), ("[\\-]", "-", true),
        ("[x\\-]", "x", true), ("[x\\-]", "-", true), ("[x\\-]", "z", false), ("[\\-x]", "x", true), ("[\\-x]", "-", true),
        ("[\\-x]", "a", false), ("*x", "xxx", true),
    ])
    func filepathMatchCases(pattern: String, path: String, excluded: Bool) throws {
        #expect(try DockerIgnore(patterns: [pattern]).excludes(path) == excluded)
    }

    @Test(arguments: ["[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a["])
    func malformedPatternsAreRejected(pattern: String) {
        #expect(throws: SwiftletError("syntax error in pattern", code: .invalidArgument)) { try DockerIgnore(patterns: [pattern]) }
    }

    @Test(arguments: [
        (["**", "!util/docker/web"], "util/docker/web/foo", false),
        (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
        (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        (["*"], "fileutils.go", true), (["*.go"], "fileutils.go", true), (["!fileutils.go", "*.go"], "fileutils.go", true),
        (["docs", "!docs/README.md"], "docs/README.md", false), (["docs/", "!docs/README.md"], "docs/README.md", false),
        (["docs/*", "!docs/README.md"], "docs/README.md", false), (["*.go", "!fileutils.go"], "fileutils.go", false),
        (["*.go"], ".", false), ([], "/any/path/there", false),
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", true),
        (["*.md", "!README*.md", "README-secret.md"], "README.md", false),
        (["*.md", "!README*.md", "README-secret.md"], "CHANGES.md", true),
        (["*/temp*"], "somedir/temporary.txt", true), (["*/temp*"], "temporary.txt", false),
        (["*/*/temp*"], "somedir/subdir/temporary.txt", true), (["temp?"], "tempa", true), (["temp?"], "temp", false),
    ] as [([String], String, Bool)])
    func laterPatternsAndExceptionsDecide(patterns: [String], path: String, excluded: Bool) throws {
        #expect(try DockerIgnore(patterns: patterns).excludes(path) == excluded)
    }

    @Test func singleExclamationIsAnError() {
        #expect(throws: SwiftletError("illegal exclusion pattern: \"!\"", code: .invalidArgument)) { try DockerIgnore(patterns: ["!"]) }
        #expect(throws: SwiftletError("illegal exclusion pattern: \"!\"", code: .invalidArgument)) { try DockerIgnore(parsing: "a\n! \n") }
    }

    @Test func fileIsReadAsTheDockerCLIReadsIt() throws {
        let ignore = try DockerIgnore(parsing: "\u{FEFF}test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\r\n  spaced  \nx/../y\n")
        #expect(ignore.patterns.map(\.text) == ["test1", "test2", "a/file/here", "lastfile", "inverted/abs/path", "spaced", "y"])
        #expect(ignore.patterns.map(\.isException) == [false, false, false, false, true, false, false])
    }

    @Test func contextListsWhatIsNotIgnoredAndSendsTheDockerfile() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("builder-context-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for directory in ["build", "src"] {
            try FileManager.default.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        let files = [".dockerignore": "*.log\nbuild\n!build/keep.txt\nDockerfile\n.dockerignore\n", "Dockerfile": "FROM scratch\n",
                     "a.txt": "a", "x.log": "x", "build/keep.txt": "k", "build/drop.txt": "d", "src/main.c": "int main;", "src/debug.log": "l"]
        for (path, content) in files {
            try Data(content.utf8).write(to: URL(fileURLWithPath: root + "/" + path))
        }
        let context = try BuildContext(root: root)
        #expect(try context.visiblePaths() == ["a.txt", "build/keep.txt", "src", "src/debug.log", "src/main.c"])
        #expect(try context.sentPaths(dockerfile: "Dockerfile") == [".dockerignore", "Dockerfile", "a.txt", "build/keep.txt", "src", "src/debug.log", "src/main.c"])
        let unignored = BuildContext(root: root, ignore: DockerIgnore())
        #expect(try unignored.visiblePaths().count == 10)
    }
}

/// COPY/ADD sources resolved among the context's files.
struct CopySourcesTests {
    static let available = ["a.txt", "b.txt", "docs", "docs/x.md", "docs/y.txt", "src", "src/app.c", "src/lib", "src/lib/util.c"]

    @Test(arguments: [
        (["a.txt"], ["a.txt"]), (["/a.txt"], ["a.txt"]), (["./docs/../a.txt"], ["a.txt"]), (["."], ["."]),
        (["*.txt"], ["a.txt", "b.txt"]), (["src/*.c"], ["src/app.c"]),
        (["s*"], ["src"]), (["*/*.txt"], ["docs/y.txt"]), (["**/*.c"], ["src/app.c"]), (["docs", "[ab].txt"], ["docs", "a.txt", "b.txt"]),
    ] as [([String], [String])])
    func sourcesNamePathsInTheContext(sources: [String], expected: [String]) throws {
        #expect(try CopySources.resolve(sources, among: Self.available, isAdd: false) == expected)
    }

    @Test func missingSourcesFailWithDockersMessages() {
        #expect(throws: SwiftletError("COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist", code: .notFound)) {
            try CopySources.resolve(["nope.txt"], among: Self.available, isAdd: false)
        }
        #expect(throws: SwiftletError("ADD failed: no source files were specified", code: .invalidArgument)) {
            try CopySources.resolve(["*.zip"], among: Self.available, isAdd: true)
        }
        #expect(throws: SwiftletError("COPY failed: file not found in build context or excluded by .dockerignore: stat ../../etc/passwd: file does not exist", code: .notFound)) {
            try CopySources.resolve(["../../etc/passwd"], among: Self.available, isAdd: false)
        }
    }

    @Test func addKeepsURLs() throws {
        #expect(try CopySources.resolve(["https://example.com/a.tgz"], among: [], isAdd: true) == ["https://example.com/a.tgz"])
    }
}
