import HostSystem
import Foundation
import Testing
@testable import Images

/// Applies layers with `LayerUnpacker` and checks the resulting tree.
@Suite struct UnpackTests {
    func unpack(_ layers: [[(TarEntry, Data)]], into root: String) throws {
        var unpacker = LayerUnpacker(root: root)
        for (index, entries) in layers.enumerated() {
            let path = "\(root).layer\(index).tar"
            try Fixture.tar(entries).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            try unpacker.apply(TarReader(try FileSource(path: path), what: "layer \(index)"), layer: "layer \(index)")
        }
        unpacker.finish()
    }

    func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    @Test func whiteoutRemovesLowerFileAndDirectory() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try unpack([
            [Fixture.directory("etc/"), Fixture.file("etc/motd", "hi"), Fixture.file("etc/keep", "k"),
             Fixture.directory("usr/share/doc/pkg/"), Fixture.file("usr/share/doc/pkg/README", "r")],
            [Fixture.file("etc/.wh.motd"), Fixture.file("usr/share/doc/.wh.pkg")],
        ], into: root)
        #expect(!exists("\(root)/etc/motd"))
        #expect(exists("\(root)/etc/keep"))
        #expect(!exists("\(root)/usr/share/doc/pkg"))
        #expect(exists("\(root)/usr/share/doc"))
        #expect(!exists("\(root)/etc/.wh.motd"))
    }

    @Test func opaqueWhiteoutKeepsOnlyThisLayersEntries() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try unpack([
            [Fixture.directory("opt/"), Fixture.file("opt/old", "o"), Fixture.directory("opt/sub/"), Fixture.file("opt/sub/old2")],
            // The new entries come before the marker, as some tools write them.
            [Fixture.file("opt/new", "n"), Fixture.directory("opt/sub/"), Fixture.file("opt/sub/new2"), Fixture.file("opt/.wh..wh..opq")],
        ], into: root)
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(root)/opt").sorted()
        #expect(names == ["new", "sub"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/opt/sub") == ["new2"])
    }

    @Test func laterLayerReplacesFileWithDirectoryAndBack() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try unpack([
            [Fixture.file("a", "file"), Fixture.directory("b/"), Fixture.file("b/c")],
            [Fixture.directory("a/"), Fixture.file("a/x", "x"), Fixture.file("b", "now a file")],
        ], into: root)
        #expect(try String(contentsOfFile: "\(root)/a/x", encoding: .utf8) == "x")
        #expect(try String(contentsOfFile: "\(root)/b", encoding: .utf8) == "now a file")
    }

    @Test func linksModesAndTimes() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var file = Fixture.file("bin/tool", "#!/bin/sh\n", mode: 0o4755)
        file.0.modified = timespec(tv_sec: 1_000_000, tv_nsec: 0)
        file.0.uid = 1234
        file.0.gid = 5678
        var fifo = Fixture.file("run/fifo")
        fifo.0.kind = .fifo
        try unpack([[file, Fixture.hardLink("bin/tool2", to: "bin/tool"), Fixture.symlink("bin/sh", to: "/bin/tool"),
                     Fixture.symlink("escape", to: "../../../../etc"), fifo]], into: root)
        var info = stat()
        #expect(stat("\(root)/bin/tool", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o4755)
        #expect(info.st_mtim.tv_sec == 1_000_000)
        #expect(info.st_nlink == 2)
        if geteuid() == 0 {
            #expect(info.st_uid == 1234 && info.st_gid == 5678)
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/bin/sh") == "/bin/tool")
        // A link may point anywhere; it is only never written through.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/escape") == "../../../../etc")
        #expect(lstat("\(root)/run/fifo", &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    }

    @Test(arguments: [
        ("../evil", "contains '..'"),
        ("a/../../evil", "contains '..'"),
        ("/etc/passwd", "absolute path"),
    ])
    func escapingNamesAreRefused(name: String, message: String) throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect {
            try unpack([[Fixture.file(name, "pwned")]], into: root)
        } throws: { error in
            (error as? SwiftletError)?.message.contains(message) == true
        }
        #expect(!exists(temp.sub("evil")))
    }

    /// A pax name with a NUL byte: the checks saw `..\0xxx`, the system calls `..`, so the
    /// unpacker removed the root's parent directory (found by Fuzz/TarUnpack).
    @Test func namesWithNULBytesAreRefused() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: temp.sub("sentinel")))
        let long = String(repeating: "x", count: 100) // over 100 bytes: the name goes into a pax header
        for name in ["..\0\(long)", "dir\0\(long)/file"] {
            #expect {
                try unpack([[Fixture.file(name, "pwned")]], into: root)
            } throws: { error in
                (error as? SwiftletError)?.message.contains("contains a NUL byte") == true
            }
        }
        #expect(FileManager.default.contents(atPath: temp.sub("sentinel")) == Data("keep".utf8))
        #expect(exists(root))
    }

    @Test func writingThroughASymlinkIsRefused() throws {
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let root = temp.sub("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: temp.sub("outside"), withIntermediateDirectories: true)
        for (link, target) in [("link", "../outside"), ("abs", temp.sub("outside"))] {
            #expect {
                try unpack([[Fixture.symlink(link, to: target)], [Fixture.file("\(link)/pwned", "x")]], into: root)
            } throws: { error in
                (error as? SwiftletError)?.message.contains("symbolic link '\(link)'") == true
            }
            #expect(!exists(temp.sub("outside/pwned")))
        }
        // Hard links and whiteouts are refused through links as well.
        #expect(throws: SwiftletError.self) {
            try unpack([[Fixture.hardLink("stolen", to: "link/secret")]], into: root)
        }
        #expect(throws: SwiftletError.self) { try unpack([[Fixture.file("link/.wh.secret")]], into: root) }
        #expect(throws: SwiftletError.self) { try unpack([[Fixture.file("etc/.wh..")]], into: root) }
    }
}
