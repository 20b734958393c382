import HostSystem
import ArgumentParser
import Foundation
import Images
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet cp`: files between a container and the host (`docker cp`): `CONTAINER:SRC
/// DEST` or `SRC CONTAINER:DEST`, `-` for a tar on standard input or output. A directory
/// destination receives the source under its own name; a destination that does not exist
/// takes the source's content under the new name.
struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp", abstract: "Copy files between a container and the host (CONTAINER:PATH on one side).")

    @OptionGroup var runtime: RuntimeOptions
    @Flag(name: .shortAndLong, help: "Keep the archive's owners (uid:gid) when copying into the container.")
    var archive = false
    @Flag(name: [.customShort("L"), .long], help: "Follow a symbolic link given as the source.")
    var followLink = false
    @Argument(help: "Source: a host path, -, or CONTAINER:PATH.")
    var source: String
    @Argument(help: "Destination: a host path, -, or CONTAINER:PATH.")
    var destination: String

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            let scratch = try Self.scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            switch (Self.split(source), Self.split(destination)) {
            case (let (container?, path), let (nil, target)):
                try copyOut(runtime, container: container, path: path, to: target, scratch: scratch)
            case (let (nil, path), let (container?, target)):
                try copyIn(runtime, from: path, container: container, path: target, scratch: scratch)
            default:
                throw SwiftletError("copying between containers or between host paths is not supported: one side must be CONTAINER:PATH",
                                    code: .invalidArgument)
            }
        }
    }

    private func copyOut(_ runtime: Runtime, container: String, path: String, to target: String, scratch: String) throws {
        var source = path
        if followLink, let stat = try? runtime.statPath(container, path: path), !stat.linkTarget.isEmpty {
            source = stat.linkTarget.hasPrefix("/") ? stat.linkTarget : ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(stat.linkTarget)
        }
        let archive = "\(scratch)/out.tar"
        let stat = try runtime.archivePath(container, path: source, to: archive)
        if target == "-" {
            FileHandle.standardOutput.write(try Data(contentsOf: URL(fileURLWithPath: archive)))
            return
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue && stat.isDirectory {
            throw SwiftletError("cannot copy a directory to a file: \(target)", code: .invalidArgument)
        }
        let final = exists && isDirectory.boolValue ? (target as NSString).appendingPathComponent(stat.name) : target
        let unpacked = "\(scratch)/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: false)
        // The container's archive is unpacked with the layer unpacker's protections (nothing
        // lands outside `unpacked`), owned by whoever runs cp, as docker cp does.
        try TarArchive.extract(archive, into: unpacked, owner: (uid: getuid(), gid: getgid()))
        if FileManager.default.fileExists(atPath: final) && !stat.isDirectory { unlink(final) }
        if stat.isDirectory, FileManager.default.fileExists(atPath: final) {
            // Into an existing directory: its content is merged, as docker cp does.
            try runTool("cp", ["-a", "\(unpacked)/\((source as NSString).lastPathComponent)/.", final], what: "copying \(path)")
        } else {
            try runTool("mv", ["\(unpacked)/\((source as NSString).lastPathComponent)", final], what: "copying \(path)")
        }
    }

    private func copyIn(_ runtime: Runtime, from path: String, container: String, path target: String, scratch: String) throws {
        let archive = "\(scratch)/in.tar"
        if path == "-" {
            try Data(FileHandle.standardInput.readDataToEndOfFile()).write(to: URL(fileURLWithPath: archive))
            try runtime.extractArchive(container, archive: archive, into: target, copyOwnership: self.archive)
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SwiftletError("lstat \(path): no such file or directory", code: .notFound)
        }
        let base = ((path as NSString).standardizingPath as NSString).lastPathComponent
        let parent = ((path as NSString).standardizingPath as NSString).deletingLastPathComponent
        // An existing directory receives the source under its name; otherwise the source
        // becomes the target (its top entry renamed) inside the target's parent.
        let existing = try? runtime.statPath(container, path: target)
        if target.hasSuffix("/") && existing?.isDirectory != true {
            throw SwiftletError("destination \"\(container):\(target)\" must be a directory", code: .invalidArgument)
        }
        var directory = target, name = base
        if existing?.isDirectory != true {
            directory = (target as NSString).deletingLastPathComponent
            name = (target as NSString).lastPathComponent
            if directory.isEmpty { directory = "/" }
        }
        if name == base {
            try runTool("tar", ["-C", parent.isEmpty ? "/" : parent, "-cf", archive, "--", base], what: "archiving \(path)")
        } else {
            try FileManager.default.createDirectory(atPath: "\(scratch)/stage", withIntermediateDirectories: false)
            try runTool("cp", ["-a", path, "\(scratch)/stage/\(name)"], what: "copying \(path)")
            try runTool("tar", ["-C", "\(scratch)/stage", "-cf", archive, "--", name], what: "archiving \(path)")
        }
        try runtime.extractArchive(container, archive: archive, into: directory, copyOwnership: self.archive)
    }

    /// `CONTAINER:PATH` → (container, path); a host path → (nil, path). A path starting
    /// with `/` or `.` is a host path even with a colon, as docker cp decides.
    static func split(_ argument: String) -> (String?, String) {
        guard !argument.hasPrefix("/"), !argument.hasPrefix("."), let colon = argument.firstIndex(of: ":") else { return (nil, argument) }
        let path = String(argument[argument.index(after: colon)...])
        return (String(argument[..<colon]), path.isEmpty ? "/" : path)
    }

    private static func scratchDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "swiftlet-cp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }
}
