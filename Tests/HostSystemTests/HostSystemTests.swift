import Foundation
import HostSystem
import Testing

/// The shared system-call helpers: whole writes, durable atomic replacement, Unix socket
/// addresses and wait statuses.
@Suite struct HostSystemTests {
    let directory = NSTemporaryDirectory() + "swiftlet-hostsystem-\(UUID().uuidString)"

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    @Test func atomicWriteReplacesTheFileAndLeavesNoTemporary() throws {
        let path = "\(directory)/state.json"
        try AtomicFile.write(Array("old".utf8), to: path)
        try AtomicFile.write(Array(repeating: UInt8(ascii: "x"), count: 1 << 20), to: path, permissions: 0o600)
        #expect(FileManager.default.contents(atPath: path)?.count == 1 << 20)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["state.json"])
        try FileManager.default.removeItem(atPath: directory)
    }

    @Test func atomicWriteIntoAMissingDirectoryNamesTheCall() {
        #expect(throws: SwiftletError.self) { try AtomicFile.write([1], to: "\(directory)/missing/file") }
        do {
            try AtomicFile.write([1], to: "\(directory)/missing/file")
        } catch {
            #expect(error.message.hasPrefix("create \(directory)/missing/file.tmp-") && error.errno == .noSuchFileOrDirectory && error.code == .notFound)
        }
    }

    @Test func writeAllWritesEveryByte() throws {
        let path = "\(directory)/data"
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        let bytes = (0..<200_000).map { UInt8($0 & 0xff) }
        try Descriptors.writeAll(fd, bytes)
        close(fd)
        #expect(FileManager.default.contents(atPath: path).map(Array.init) == bytes)
        #expect(throws: SwiftletError.self) { try Descriptors.writeAll(-1, [1]) }
        try FileManager.default.removeItem(atPath: directory)
    }

    @Test func unixSocketAddressesConnectAndRefuseLongPaths() throws {
        #expect(throws: SwiftletError.self) { try UnixSocketAddress(String(repeating: "a", count: UnixSocketAddress.maximumPathLength + 1)) }
        #expect(throws: SwiftletError.self) { try UnixSocketAddress("") }
        let path = "\(directory)/s"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        try UnixSocketAddress(path).bind(listener)
        #expect(listen(listener, 1) == 0)
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        try UnixSocketAddress(path).connect(client)
        let stranger = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(stranger) }
        #expect(throws: SwiftletError.self) { try UnixSocketAddress("\(directory)/none").connect(stranger) }
        try FileManager.default.removeItem(atPath: directory)
    }

    @Test func waitStatusesDecodeAsShellsDo() {
        #expect(WaitStatus.exitCode(3 << 8) == 3)
        #expect(WaitStatus.exitCode(9) == 137)
        #expect(WaitStatus.terminatingSignal(9) == 9)
        #expect(WaitStatus.terminatingSignal(0) == nil)
        #expect(WaitStatus.terminatingSignal(0x137f) == nil)  // stopped, not ended
    }

    @Test func fileChangeWatchWakesOnChangesAndTimesOutWithout() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let watch = try FileChangeWatch(directory)
        #expect(!watch.wait(timeout: 0.05), "nothing changed yet")
        try AtomicFile.write([1, 2], to: "\(directory)/state.json")
        #expect(watch.wait(timeout: 5), "a file renamed into the directory")
        #expect(!watch.wait(timeout: 0.05), "the events were drained")
        #expect(throws: SwiftletError.self) { try FileChangeWatch("\(directory)/missing") }
    }
}
