import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HostSystem
import Images
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The files a COPY, ADD or WORKDIR step adds, laid out in an empty directory exactly as
/// they land in the image, so that directory becomes the step's layer (Dockerfile
/// reference: "COPY", "ADD", "WORKDIR"). Directories above the destination take their
/// metadata from the image so far, and destinations follow the image's symbolic links;
/// copied files are owned by `--chown` (else 0:0) and keep their mode unless `--chmod` is
/// given; a local tar archive given to ADD is unpacked; a source never resolves outside its
/// root, and nothing is written through a link.
struct CopyStaging {
    /// The empty directory the step's files are laid out in.
    let stage: String
    /// The image's file system so far; nil for a stage on scratch.
    let parentTree: String?

    /// Lays out what `step` copies from `sourceRoot` (the context, or a stage's or image's
    /// tree). `sources` are the step's sources after wildcard expansion. Each source is
    /// copied into a fresh directory first and merged into the stage by the layer
    /// unpacker, which replaces what is there and never writes through a symbolic link, so
    /// one source's links cannot redirect another's files.
    func copy(_ step: CopyStep, sources: [String], sourceRoot: String) throws {
        let name = step.isAdd ? "ADD" : "COPY"
        let owner = try step.chown.map { try resolveOwner($0) } ?? (0, 0)
        let wildcard = step.sources.contains { $0.contains(where: { "*?[".contains($0) }) }
        var destination = try inImage(cleanPath(step.destination))
        let existingDirectory = parentTree.map { isDirectory("\($0)\(destination)") } ?? false
        let intoDirectory = step.destination.hasSuffix("/") || sources.count > 1 || wildcard || existingDirectory
        if sources.count > 1 && !step.destination.hasSuffix("/") && !existingDirectory {
            throw SwiftletError("When using \(name) with more than one source file, the destination must be a directory and end with a /",
                                code: .invalidArgument)
        }
        if destination == "." { destination = "/" }
        for (index, source) in sources.enumerated() {
            let fresh = "\(stage)-source-\(index)"
            try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: false)
            defer { try? FileManager.default.removeItem(atPath: fresh) }
            var into = destination
            if step.isAdd, let url = URL(string: source), ["http", "https"].contains(url.scheme ?? "") {
                let target = intoDirectory ? joinPath(destination, url.lastPathComponent) : destination
                try download(url, to: "\(fresh)/\((target as NSString).lastPathComponent)")
                try adjust(fresh, owner: owner, mode: step.chmod ?? 0o600)
                into = (target as NSString).deletingLastPathComponent
            } else {
                let resolved = try resolve(source, in: sourceRoot, instruction: name)
                if step.isAdd && !isDirectory(resolved) && TarArchive.recognises(resolved) {
                    try TarArchive.extract(resolved, into: fresh)
                } else if isDirectory(resolved) {
                    try runTool("cp", ["-a", "\(resolved)/.", fresh], what: "\(name) \(source)")
                    try adjust(fresh, owner: owner, mode: step.chmod)
                } else {
                    // Named as the source is, not as what a symbolic link source points to.
                    let target = intoDirectory ? joinPath(destination, (source as NSString).lastPathComponent) : destination
                    try runTool("cp", ["-aL", resolved, "\(fresh)/\((target as NSString).lastPathComponent)"], what: "\(name) \(source)")
                    try adjust(fresh, owner: owner, mode: step.chmod)
                    into = (target as NSString).deletingLastPathComponent
                }
            }
            try makeDirectories(into, owner: owner)
            try merge(fresh, into: stage + into)
        }
    }

    /// WORKDIR's directory: laid out when the image does not have it yet. Returns whether
    /// anything was (a layer to store).
    func makeWorkingDirectory(_ path: String) throws -> Bool {
        let resolved = try inImage(cleanPath(path))
        var status = stat()
        if let parentTree, lstat(parentTree + resolved, &status) == 0 { return false }
        try makeDirectories(resolved, owner: (0, 0))
        return true
    }

    /// `path` as the image resolves it: its symbolic links followed inside the image
    /// (`/bin/tool` lands in `/usr/bin` when `/bin` links there, as in Debian's images).
    private func inImage(_ path: String) throws -> String {
        guard let parentTree else { return path }
        let resolved = try ScopedPath.resolve(path, in: parentTree, followLast: true)
        return resolved == parentTree ? "/" : String(resolved.dropFirst(parentTree.count))
    }

    /// Moves what `fresh` holds into `directory` of the stage (a directory's own metadata
    /// there is left as it is).
    private func merge(_ fresh: String, into directory: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: fresh)
        guard !names.isEmpty else { return }
        let archive = "\(fresh).tar"
        defer { unlink(archive) }
        try runTool("tar", ["-C", fresh, "--numeric-owner", "-cf", archive, "--"] + names, what: "staging copied files")
        try TarArchive.extract(archive, into: directory)
    }

    /// `source` inside `root`, its symbolic links followed as inside `root` (an absolute
    /// target from `root`), so it never resolves outside it.
    private func resolve(_ source: String, in root: String, instruction: String) throws -> String {
        let resolved = try ScopedPath.resolve(source == "." ? "" : source, in: root, followLast: true)
        var status = stat()
        guard lstat(resolved, &status) == 0 else {
            throw SwiftletError("\(instruction) failed: file not found in build context or excluded by .dockerignore: stat \(source): file does not exist",
                                code: .notFound)
        }
        return resolved
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

    /// Owner (always) and mode (when given) of everything copied into `fresh`.
    private func adjust(_ fresh: String, owner: (UInt32, UInt32), mode: UInt32?) throws {
        for item in (FileManager.default.enumerator(atPath: fresh)?.compactMap { $0 as? String } ?? []) {
            let path = "\(fresh)/\(item)"
            lchown(path, owner.0, owner.1)
            var status = stat()
            if let mode, lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFLNK { chmod(path, mode) }
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

    private func download(_ url: URL, to file: String) throws {
        do {
            try Data(contentsOf: url).write(to: URL(fileURLWithPath: file))
        } catch {
            throw SwiftletError("ADD failed: cannot download \(url.absoluteString): \(error.localizedDescription)", code: .unavailable)
        }
    }

    private func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }
}
