import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HostSystem
import Images
#if canImport(Glibc)
import Glibc
#endif

/// The files a COPY, ADD or WORKDIR step adds, laid out in an empty directory exactly as
/// they land in the image, so that directory becomes the step's layer (Dockerfile
/// reference: "COPY", "ADD", "WORKDIR"). Directories above the destination take their
/// metadata from the image so far; copied files are owned by `--chown` (else 0:0) and keep
/// their mode unless `--chmod` is given; a local tar archive given to ADD is unpacked; a
/// source never resolves outside its root.
struct CopyStaging {
    /// The empty directory the step's files are laid out in.
    let stage: String
    /// The image's file system so far; nil for a stage on scratch.
    let parentTree: String?

    /// Lays out what `step` copies from `sourceRoot` (the context, or a stage's or image's
    /// tree). `sources` are the step's sources after wildcard expansion.
    func copy(_ step: CopyStep, sources: [String], sourceRoot: String) throws {
        let name = step.isAdd ? "ADD" : "COPY"
        let owner = try step.chown.map { try resolveOwner($0) } ?? (0, 0)
        let wildcard = step.sources.contains { $0.contains(where: { "*?[".contains($0) }) }
        var destination = cleanPath(step.destination)
        let existingDirectory = parentTree.map { isDirectory("\($0)\(destination)") } ?? false
        let intoDirectory = step.destination.hasSuffix("/") || sources.count > 1 || wildcard || existingDirectory
        if sources.count > 1 && !step.destination.hasSuffix("/") && !existingDirectory {
            throw SwiftletError("When using \(name) with more than one source file, the destination must be a directory and end with a /",
                                code: .invalidArgument)
        }
        if destination == "." { destination = "/" }
        for source in sources {
            let path = URL(string: source).flatMap { ["http", "https"].contains($0.scheme ?? "") ? $0 : nil }
            if step.isAdd, let url = path {
                let file = try download(url)
                defer { unlink(file) }
                let target = intoDirectory ? joinPath(destination, url.lastPathComponent) : destination
                try place(file, at: target, owner: owner, mode: step.chmod ?? 0o600, followLink: false)
                continue
            }
            let resolved = try resolve(source, in: sourceRoot, instruction: name)
            if step.isAdd && !isDirectory(resolved) && TarArchive.recognises(resolved) {
                try makeDirectories(destination, owner: owner)
                try TarArchive.extract(resolved, into: stage + destination)
            } else if isDirectory(resolved) {
                try makeDirectories(destination, owner: owner)
                try runTool("cp", ["-a", "\(resolved)/.", stage + destination], what: "\(name) \(source)")
                try adjust(stage + destination, owner: owner, mode: step.chmod, recursive: true)
            } else {
                let target = intoDirectory ? joinPath(destination, (resolved as NSString).lastPathComponent) : destination
                try place(resolved, at: target, owner: owner, mode: step.chmod, followLink: true)
            }
        }
    }

    /// WORKDIR's directory: laid out when the image does not have it yet. Returns whether
    /// anything was (a layer to store).
    func makeWorkingDirectory(_ path: String) throws -> Bool {
        var status = stat()
        if let parentTree, lstat(parentTree + cleanPath(path), &status) == 0 { return false }
        try makeDirectories(cleanPath(path), owner: (0, 0))
        return true
    }

    /// `source` inside `root`, its symbolic links followed but never out of `root`.
    private func resolve(_ source: String, in root: String, instruction: String) throws -> String {
        let missing = SwiftletError("\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(source): file does not exist",
                                    code: .notFound)
        guard let realRoot = Self.realPath(root), let real = Self.realPath(source.isEmpty || source == "." ? root : "\(root)/\(source)") else {
            throw missing
        }
        guard real == realRoot || real.hasPrefix(realRoot + "/") else {
            throw SwiftletError("\(instruction) failed: forbidden path outside the build context: \(source) (\(real))", code: .invalidArgument)
        }
        return real
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Copies one file (or link) to `target` inside the stage, with its parents.
    private func place(_ file: String, at target: String, owner: (UInt32, UInt32), mode: UInt32?, followLink: Bool) throws {
        try makeDirectories((target as NSString).deletingLastPathComponent, owner: owner)
        try runTool("cp", [followLink ? "-aL" : "-a", file, stage + target], what: "copying \(file)")
        try adjust(stage + target, owner: owner, mode: mode, recursive: false)
    }

    /// Creates `path` and its missing parents in the stage: with the image's metadata where
    /// the image has the directory, else mode 0755 and `owner` for the new ones.
    private func makeDirectories(_ path: String, owner: (UInt32, UInt32)) throws {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/\(component)"
            var status = stat()
            if lstat(stage + current, &status) == 0 { continue }
            guard mkdir(stage + current, 0o755) == 0 else { throw SwiftletError("cannot create \(stage + current)", errno: errno) }
            var image = stat()
            if let parentTree, stat(parentTree + current, &image) == 0, image.st_mode & S_IFMT == S_IFDIR {
                chmod(stage + current, image.st_mode & 0o7777)
                lchown(stage + current, image.st_uid, image.st_gid)
                var times = [image.st_atim, image.st_mtim]
                utimensat(AT_FDCWD, stage + current, &times, AT_SYMLINK_NOFOLLOW)
            } else {
                lchown(stage + current, owner.0, owner.1)
            }
        }
    }

    /// Owner (always) and mode (when given) of what was copied to `path`.
    private func adjust(_ path: String, owner: (UInt32, UInt32), mode: UInt32?, recursive: Bool) throws {
        var paths = [path]
        if recursive, let enumerator = FileManager.default.enumerator(atPath: path) {
            paths += enumerator.compactMap { $0 as? String }.map { "\(path)/\($0)" }
        }
        for item in paths {
            lchown(item, owner.0, owner.1)
            var status = stat()
            if let mode, lstat(item, &status) == 0, status.st_mode & S_IFMT != S_IFLNK { chmod(item, mode) }
        }
    }

    /// `--chown`'s `user[:group]` as ids: numbers, or names from the image's /etc/passwd
    /// and /etc/group.
    private func resolveOwner(_ text: String) throws -> (UInt32, UInt32) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let user = parts.first ?? ""
        func lookup(_ name: String, in file: String, what: String) throws -> (UInt32, UInt32?) {
            if let number = UInt32(name) { return (number, nil) }
            let lines = (try? String(contentsOfFile: "\(parentTree ?? "")/etc/\(file)", encoding: .utf8))?.split(separator: "\n") ?? []
            for line in lines {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false)
                if fields.count > 3, fields[0] == name, let id = UInt32(fields[2]) { return (id, UInt32(fields[3])) }
            }
            throw SwiftletError("unable to convert uid/gid chown string to host mapping: can't find \(what) for \(name): no such \(what == "uid" ? "user" : "group"): \(name)",
                                code: .invalidArgument)
        }
        let (uid, primary) = try lookup(user, in: "passwd", what: "uid")
        guard parts.count > 1 else { return (uid, primary ?? uid) }
        return (uid, try lookup(parts[1], in: "group", what: "gid").0)
    }

    private func download(_ url: URL) throws -> String {
        let file = "\(stage)/../download-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let data = try Data(contentsOf: url)
            try data.write(to: URL(fileURLWithPath: file))
        } catch {
            throw SwiftletError("ADD failed: cannot download \(url.absoluteString): \(error.localizedDescription)", code: .unavailable)
        }
        return file
    }

    private func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
