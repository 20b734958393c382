import HostSystem
import ArgumentParser
import Builder
import Foundation
import Images
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `swiftlet commit`: a container's changes as a new image (`docker commit`).
struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Create a new image from a container's changes.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("a"), .long], help: "Author (e.g. \"Jane Doe <jane@example.com>\").")
    var author: String?
    @Option(name: [.customShort("m"), .long], help: "Commit message.")
    var message: String?
    @Option(name: [.customShort("c"), .long], help: "Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR).")
    var change: [String] = []
    @Option(name: [.customShort("p"), .long], help: "Pause the container while committing (true|false).")
    var pause = true
    @Argument(help: "The container.")
    var container: String
    @Argument(help: "The new image's name, REPOSITORY[:TAG].")
    var reference: String?

    func run() throws {
        try reportingErrors {
            let name = try reference.map { try ImageReference(parsing: $0) }
            let changes = try ConfigChanges(change)
            let image = try runtime.open().commit(container, options: CommitOptions(reference: name, author: author, comment: message, pause: pause),
                                                  changes: changes.apply)
            print(image.id)
        }
    }
}

/// `swiftlet diff`: a container's changed files (`docker diff`).
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "List the files a container added (A), changed (C) or deleted (D).")

    @OptionGroup var runtime: RuntimeOptions
    @Argument(help: "The container.")
    var container: String

    func run() throws {
        try reportingErrors {
            for change in try runtime.open().changes(container) {
                print("\(change.kind.letter) \(change.path)")
            }
        }
    }
}

/// `swiftlet export`: a container's file system as a tar (`docker export`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a container's file system as a tar archive.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(name: [.customShort("o"), .long], help: "Write to this file instead of standard output.")
    var output: String?
    @Argument(help: "The container.")
    var container: String

    func run() throws {
        try reportingErrors {
            if output == nil && isatty(1) != 0 {
                throw SwiftletError("cowardly refusing to save to a terminal. Use the -o flag or redirect", code: .invalidArgument)
            }
            guard output == nil else { return try runtime.open().export(container, to: output!) }
            // Written to a file, then to standard output (which need not be reopenable by name).
            let file = NSTemporaryDirectory() + "swiftlet-export-\(UUID().uuidString).tar"
            defer { unlink(file) }
            try runtime.open().export(container, to: file)
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
            defer { try? input.close() }
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { FileHandle.standardOutput.write(chunk) }
        }
    }
}

/// `swiftlet import`: a file-system tar as a one-layer image (`docker import`).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Create an image from a file-system tar archive (plain, gzip or zstd; - for standard input).")

    @OptionGroup var store: StoreOptions
    @Option(name: [.customShort("c"), .long], help: "Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR).")
    var change: [String] = []
    @Option(name: [.customShort("m"), .long], help: "Commit message for the imported image.")
    var message: String?
    @Argument(help: "The archive, or - for standard input.")
    var file: String
    @Argument(help: "The new image's name, REPOSITORY[:TAG].")
    var reference: String?

    func run() throws {
        try reportingErrors {
            let name = try reference.map { try ImageReference(parsing: $0) }
            let changes = try ConfigChanges(change)
            // Standard input is read into a file first: it may be a pipe, or a file that
            // cannot be opened again by name (an unlinked one on 9p).
            var path = file
            if file == "-" {
                path = NSTemporaryDirectory() + "swiftlet-import-\(UUID().uuidString).tar"
                try FileHandle.standardInput.readDataToEndOfFile().write(to: URL(fileURLWithPath: path))
            }
            defer { if file == "-" { unlink(path) } }
            guard file == "-" || FileManager.default.fileExists(atPath: file) else {
                throw SwiftletError("open \(file): no such file or directory", code: .notFound)
            }
            let image = try store.open().importFilesystem(from: path, source: file, reference: name, message: message,
                                                          changes: changes.apply)
            print(image.id)
        }
    }
}

/// `swiftlet history`: an image's layers and the instructions that made them.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "Do not truncate the output.")
    var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image ids.")
    var quiet = false
    @Argument(help: "Image reference or id.")
    var image: String

    func run() throws {
        try reportingErrors {
            let entries = try store.open().history(image)
            if quiet {
                entries.forEach { print($0.id.map { noTrunc ? $0.description : $0.short } ?? "<missing>") }
                return
            }
            var rows = [["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]]
            for entry in entries {
                var createdBy = entry.createdBy.replacingOccurrences(of: "\t", with: " ")
                if !noTrunc && createdBy.count > 45 { createdBy = String(createdBy.prefix(44)) + "…" }
                rows.append([entry.id.map { noTrunc ? $0.description : $0.short } ?? "<missing>",
                             entry.created.map { PsCommand.ago($0) + " ago" } ?? "N/A", createdBy,
                             formatBytes(entry.size), entry.comment])
            }
            printTable(rows)
        }
    }
}
