#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import HostSystem

/// A build context directory (Dockerfile reference: "Build context", ".dockerignore file"):
/// which of its files a build sees once `.dockerignore` is applied, walked as the Docker CLI
/// walks it (lexical order, an excluded directory skipped unless an exception may match
/// inside it).
public struct BuildContext: Sendable {
    /// The context directory, absolute or relative to the working directory.
    public let root: String
    public let ignore: DockerIgnore

    /// The context at `root`, with the patterns of its `.dockerignore` if it has one.
    public init(root: String) throws {
        self.root = root
        let ignorePath = root + "/.dockerignore"
        guard FileManager.default.fileExists(atPath: ignorePath) else {
            ignore = DockerIgnore()
            return
        }
        do {
            ignore = try DockerIgnore(parsing: String(decoding: try Data(contentsOf: URL(fileURLWithPath: ignorePath)), as: UTF8.self))
        } catch let error as SwiftletError {
            throw error.adding(context: "\(ignorePath)")
        } catch {
            throw SwiftletError("read \(ignorePath): \(error)", code: .io)
        }
    }

    public init(root: String, ignore: DockerIgnore) {
        self.root = root
        self.ignore = ignore
    }

    /// Paths (relative, `/`-separated, directories included) COPY and ADD can read: what
    /// .dockerignore does not exclude. The daemon drops an excluded Dockerfile and
    /// .dockerignore from the context too, so they are not kept here.
    public func visiblePaths() throws -> [String] {
        try paths(matching: ignore)
    }

    /// Paths the client sends to a daemon: the visible ones plus the Dockerfile (`dockerfile`,
    /// relative to the context) and .dockerignore, which the Docker CLI always sends.
    public func sentPaths(dockerfile: String) throws -> [String] {
        try paths(matching: try ignore.keeping([".dockerignore", dockerfile]))
    }

    private func paths(matching ignore: DockerIgnore) throws -> [String] {
        var result: [String] = []
        try walk(directory: "", ignore: ignore, into: &result)
        return result
    }

    private func walk(directory: String, ignore: DockerIgnore, into result: inout [String]) throws {
        let absolute = directory.isEmpty ? root : root + "/" + directory
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: absolute).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw SwiftletError("read the build context directory \(absolute): \(error.localizedDescription)", code: .io)
        }
        for name in names {
            let relative = directory.isEmpty ? name : directory + "/" + name
            let status = try FileStatus(path: root + "/" + relative)
            if ignore.excludes(relative) {
                if status.isDirectory, mayHoldException(relative, ignore: ignore) {
                    try walk(directory: relative, ignore: ignore, into: &result)
                }
                continue
            }
            result.append(relative)
            if status.isDirectory { try walk(directory: relative, ignore: ignore, into: &result) }
        }
    }

    /// Whether an exception pattern starts with `directory/`, so something inside may be kept.
    private func mayHoldException(_ directory: String, ignore: DockerIgnore) -> Bool {
        ignore.patterns.contains { $0.isException && ($0.text + "/").hasPrefix(directory + "/") }
    }
}

/// What `lstat` says about one file, the parts a build cares about.
struct FileStatus {
    let mode: UInt32
    let uid: UInt32
    let gid: UInt32

    init(path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw SwiftletError.last("lstat \(path)") }
        mode = UInt32(status.st_mode)
        uid = UInt32(status.st_uid)
        gid = UInt32(status.st_gid)
    }

    var type: UInt32 { mode & UInt32(S_IFMT) }
    var isDirectory: Bool { type == UInt32(S_IFDIR) }
    var isRegular: Bool { type == UInt32(S_IFREG) }
    var isSymbolicLink: Bool { type == UInt32(S_IFLNK) }
    /// Permission bits with setuid, setgid and sticky.
    var permissions: UInt32 { mode & 0o7777 }
}
