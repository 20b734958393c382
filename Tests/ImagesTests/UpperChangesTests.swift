import HostSystem
import Foundation
import Testing
@testable import Images
#if canImport(Glibc)
import Glibc
#endif

/// An overlayfs upper directory as `diff` lists it and `commit` archives it: whiteouts,
/// opaque directories, hard links, the runtime's own files left out, and the layer applied
/// over its lower tree giving the merged tree back.
@Suite struct UpperChangesTests {
    /// A lower tree and an upper directory holding one change of every kind.
    private func makeTrees(_ temp: TempDirectory) throws -> (lower: String, upper: String) {
        let lower = temp.sub("lower"), upper = temp.sub("upper")
        let fileManager = FileManager.default
        for directory in ["\(lower)/etc", "\(lower)/gone", "\(lower)/opaque/old", "\(upper)/etc", "\(upper)/opaque", "\(upper)/new/sub", "\(upper)/proc"] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try Data("root:x:0:0\n".utf8).write(to: URL(fileURLWithPath: "\(lower)/etc/passwd"))
        try Data("lower\n".utf8).write(to: URL(fileURLWithPath: "\(lower)/etc/motd"))
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: "\(lower)/opaque/old/file"))
        try Data("root:x:0:0\nuser:x:1000:1000\n".utf8).write(to: URL(fileURLWithPath: "\(upper)/etc/passwd"))
        try Data("runtime\n".utf8).write(to: URL(fileURLWithPath: "\(upper)/etc/hostname"))
        try Data("fresh\n".utf8).write(to: URL(fileURLWithPath: "\(upper)/new/sub/file"))
        #expect(link("\(upper)/new/sub/file", "\(upper)/new/hardlink") == 0)
        try fileManager.createSymbolicLink(atPath: "\(upper)/new/link", withDestinationPath: "sub/file")
        #expect(chmod("\(upper)/new/sub/file", 0o750) == 0)
        // overlayfs's records: a whiteout device for a deletion, an xattr for an opaque directory.
        #expect(mknod("\(upper)/gone", S_IFCHR, 0) == 0, "mknod needs root")
        #expect(mknod("\(upper)/etc/motd", S_IFCHR, 0) == 0)
        #expect(setxattr("\(upper)/opaque", "trusted.overlay.opaque", "y", 1, 0) == 0)
        try Data("kept\n".utf8).write(to: URL(fileURLWithPath: "\(upper)/opaque/kept"))
        return (lower, upper)
    }

    private var excluded: Set<String> { ["etc/hostname", "etc/hosts", "proc"] }

    @Test func changesListsAddedChangedAndDeletedPathsSorted() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let (lower, upper) = try makeTrees(temp)
        let changes = try UpperChanges(upper: upper, excluded: excluded).changes(lower: lower)
        #expect(changes.map { "\($0.kind.letter) \($0.path)" } == [
            "C /etc", "D /etc/motd", "C /etc/passwd", "D /gone", "A /new", "A /new/hardlink", "A /new/link",
            "A /new/sub", "A /new/sub/file", "C /opaque", "A /opaque/kept", "D /opaque/old",
        ])
    }

    @Test func theLayerAppliedToTheLowerTreeGivesTheMergedTree() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let (lower, upper) = try makeTrees(temp)
        let layer = temp.sub("layer.tar")
        let diffID = try UpperChanges(upper: upper, excluded: excluded).writeLayer(to: layer)
        #expect(diffID == Digest.of(try Data(contentsOf: URL(fileURLWithPath: layer))))

        var names: [String] = [], kinds: [String: TarEntry.Kind] = [:]
        let reader = TarReader(try FileSource(path: layer), what: "layer")
        while let entry = try reader.next() {
            names.append(entry.path)
            kinds[entry.path] = entry.kind
        }
        // Directories named with a trailing slash, as Docker's layers name them.
        #expect(names == ["etc/", "etc/.wh.motd", "etc/passwd", ".wh.gone", "new/", "new/hardlink", "new/link", "new/sub/",
                          "new/sub/file", "opaque/", "opaque/.wh..wh..opq", "opaque/kept"])
        #expect(kinds["new/sub/file"] == .hardLink && kinds["new/link"] == .symbolicLink)

        var unpacker = LayerUnpacker(root: lower)
        try unpacker.apply(TarReader(try FileSource(path: layer), what: "layer"), layer: "layer")
        unpacker.finish()
        let fileManager = FileManager.default
        #expect(!fileManager.fileExists(atPath: "\(lower)/gone") && !fileManager.fileExists(atPath: "\(lower)/etc/motd"))
        #expect(!fileManager.fileExists(atPath: "\(lower)/opaque/old") && fileManager.fileExists(atPath: "\(lower)/opaque/kept"))
        #expect(!fileManager.fileExists(atPath: "\(lower)/etc/hostname") && !fileManager.fileExists(atPath: "\(lower)/proc"))
        #expect(try String(contentsOfFile: "\(lower)/etc/passwd", encoding: .utf8).contains("user:x:1000"))
        var first = stat(), second = stat()
        #expect(stat("\(lower)/new/sub/file", &first) == 0 && stat("\(lower)/new/hardlink", &second) == 0)
        #expect(first.st_ino == second.st_ino && first.st_mode & 0o7777 == 0o750)
        #expect(try fileManager.destinationOfSymbolicLink(atPath: "\(lower)/new/link") == "sub/file")
    }

    /// A directory holding only what the runtime wrote (the /etc made for /etc/hostname)
    /// is no change at all.
    @Test func aDirectoryHoldingOnlyRuntimeFilesIsLeftOut() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let lower = temp.sub("lower"), upper = temp.sub("upper")
        try FileManager.default.createDirectory(atPath: "\(lower)/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(upper)/etc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(upper)/proc", withIntermediateDirectories: true)
        try Data("h\n".utf8).write(to: URL(fileURLWithPath: "\(upper)/etc/hostname"))
        let changes = UpperChanges(upper: upper, excluded: excluded)
        #expect(try changes.changes(lower: lower).isEmpty)
        let layer = temp.sub("layer.tar")
        _ = try changes.writeLayer(to: layer)
        #expect(try TarReader(try FileSource(path: layer), what: "layer").next() == nil)
    }

    /// A user-namespaced container's files belong to shifted host ids; the layer records
    /// the container's own.
    @Test func ownersAreShiftedBackToTheContainersIDs() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let upper = temp.sub("upper")
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(upper)/owned"))
        #expect(chown("\(upper)/owned", 100_000 + 1000, 100_000 + 50) == 0)
        let layer = temp.sub("layer.tar")
        _ = try UpperChanges(upper: upper, excluded: [], idShift: 100_000).writeLayer(to: layer)
        let entry = try #require(try TarReader(try FileSource(path: layer), what: "layer").next())
        #expect(entry.uid == 1000 && entry.gid == 50)
    }
}

@_silgen_name("setxattr")
private func setxattr(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int, _ flags: Int32) -> Int32
