import Foundation
import HostSystem
import Images

/// A build context as the daemon receives it: only what `.dockerignore` lets through, plus
/// the Dockerfile and `.dockerignore` (what the Docker CLI sends), copied into a directory
/// of its own, so a build reads exactly what a client would have sent.
extension BuildContext {
    /// Copies the context into a new directory under `parent`; a Dockerfile outside the
    /// context is copied in too. Returns the directory and the Dockerfile's path inside it.
    public func stage(into parent: String, dockerfile: String) throws -> (directory: String, dockerfile: String) {
        var status = stat()
        guard stat(root, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw SwiftletError("unable to prepare context: path \"\(root)\" not found", code: .notFound)
        }
        let directory = "\(parent)/context-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            let realRoot = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
            let dockerfileURL = URL(fileURLWithPath: dockerfile, relativeTo: URL(fileURLWithPath: root + "/")).standardizedFileURL
            let insideContext = dockerfileURL.resolvingSymlinksInPath().path.hasPrefix(realRoot + "/")
            let relativeDockerfile = insideContext ? String(dockerfileURL.resolvingSymlinksInPath().path.dropFirst(realRoot.count + 1)) : dockerfile
            let list = "\(directory).list"
            defer { unlink(list) }
            let paths = try sentPaths(dockerfile: relativeDockerfile)
            try Data(paths.joined(separator: "\0").utf8).write(to: URL(fileURLWithPath: list))
            if !paths.isEmpty {
                let archive = "\(directory).tar"
                defer { unlink(archive) }
                try runTool("tar", ["-C", root, "--null", "--no-recursion", "--verbatim-files-from", "-T", list, "-cf", archive],
                            what: "reading the build context")
                try runTool("tar", ["-C", directory, "-xf", archive], what: "staging the build context")
            }
            guard insideContext else {
                guard FileManager.default.fileExists(atPath: dockerfileURL.path) else {
                    throw SwiftletError("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat \(dockerfileURL.path): no such file or directory",
                                        code: .notFound)
                }
                let name = ".swiftlet-dockerfile-\(UUID().uuidString)"
                try FileManager.default.copyItem(atPath: dockerfileURL.path, toPath: "\(directory)/\(name)")
                return (directory, name)
            }
            return (directory, relativeDockerfile)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }
}
