import Foundation
import HostSystem
import Testing
@testable import EmbeddedDNS

/// The server on loopback: networks with gateways on 127.77.x.1, containers on other
/// 127.77.x addresses (a client binds the address of the container it plays), a high port.
struct DNSServerTests {
    static let port: UInt16 = 42053
    static let web = NetworkRecords.Container(id: "w" + String(repeating: "0", count: 63), names: ["web", "Frontend"], address: "127.77.0.2")
    static let db = NetworkRecords.Container(id: "d" + String(repeating: "0", count: 63), names: ["db"], address: "127.77.0.3")
    static let dbOnBack = NetworkRecords.Container(id: db.id, names: ["db"], address: "127.77.1.3")
    static let cache = NetworkRecords.Container(id: "c" + String(repeating: "0", count: 63), names: ["cache"], address: "127.77.1.2")

    static func write(_ directory: String, _ id: String, gateway: String, _ containers: [NetworkRecords.Container]) throws {
        try NetworkRecords.update(directory: directory, networkID: id) {
            $0 = NetworkRecords(network: "net-\(id)", gateway: gateway, subnet: "", port: port, containers: containers)
        }
    }

    static func addresses(_ reply: DNSMessage) -> [String] {
        reply.answers.filter { $0.type == DNSMessage.typeA }.map { $0.data.map(String.init).joined(separator: ".") }
    }

    @Test func resolvesForwardsRefusesAndReloads() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let upstream = try FakeUpstream(address: "127.77.9.1", port: Self.port + 1)
        defer { upstream.stop() }
        let resolvConf = directory.path + "-resolv.conf"
        try "# test\nsearch example\nnameserver 127.77.9.1\n".write(toFile: resolvConf, atomically: true, encoding: .utf8)
        defer { unlink(resolvConf) }
        try Self.write(directory.path, "front", gateway: "127.77.0.1", [Self.web, Self.db])
        try Self.write(directory.path, "back", gateway: "127.77.1.1", [Self.cache, Self.dbOnBack])
        let server = try ServerThread(directory: directory.path, resolvConf: resolvConf, upstreamPort: Self.port + 1)
        #expect(FileManager.default.fileExists(atPath: directory.path + "/server.pid"))

        // Same network, any case, with or without the trailing dot.
        let db = try Loopback.ask("db", from: "127.77.0.2", to: "127.77.0.1", port: Self.port)
        #expect(db.responseCode == 0 && Self.addresses(db) == ["127.77.0.3"] && db.answers.first?.ttl == 600)
        #expect(Self.addresses(try Loopback.ask("FRONTEND.", from: "127.77.0.3", to: "127.77.0.1", port: Self.port)) == ["127.77.0.2"])
        // A known name's other types: NODATA.
        let aaaa = try Loopback.ask("db", type: DNSMessage.typeAAAA, from: "127.77.0.2", to: "127.77.0.1", port: Self.port)
        #expect(aaaa.responseCode == 0 && aaaa.answers.isEmpty)
        // web is not on back: cache is forwarded upstream, as is a dotted name.
        #expect(Self.addresses(try Loopback.ask("cache", from: "127.77.0.2", to: "127.77.0.1", port: Self.port)) == ["192.0.2.1"])
        #expect(Self.addresses(try Loopback.ask("db.example", from: "127.77.0.2", to: "127.77.0.1", port: Self.port)) == ["192.0.2.1"])
        // db is on both: names from both, each network's own address, the asked one first.
        #expect(Self.addresses(try Loopback.ask("cache", from: "127.77.1.3", to: "127.77.1.1", port: Self.port)) == ["127.77.1.2"])
        #expect(Self.addresses(try Loopback.ask("web", from: "127.77.1.3", to: "127.77.1.1", port: Self.port)) == ["127.77.0.2"])
        #expect(Self.addresses(try Loopback.ask("db", from: "127.77.1.2", to: "127.77.1.1", port: Self.port)) == ["127.77.1.3"])
        // Not a container of the network it asks: REFUSED, even for a known name.
        #expect(try Loopback.ask("db", from: "127.77.0.9", to: "127.77.0.1", port: Self.port).responseCode == 5)
        #expect(try Loopback.ask("db", from: "127.77.0.2", to: "127.77.1.1", port: Self.port).responseCode == 5)
        // Garbage with a header: FORMERR.
        let garbage: [UInt8] = [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(try Loopback.ask(garbage, from: "127.77.0.2", to: "127.77.0.1", port: Self.port)?.responseCode == 1)
        // TCP.
        let overTCP = try #require(try Loopback.askOverTCP("db", from: "127.77.0.2", to: "127.77.0.1", port: Self.port))
        #expect(overTCP.id == 99 && Self.addresses(overTCP) == ["127.77.0.3"])
        // Forwarded over TCP when asked over TCP (a truncated UDP answer's retry).
        #expect(Self.addresses(try #require(try Loopback.askOverTCP("cache", from: "127.77.0.2", to: "127.77.0.1", port: Self.port))) == ["192.0.2.2"])

        // A new network, bound on reload.
        let extra = NetworkRecords.Container(id: "e" + String(repeating: "0", count: 63), names: ["extra"], address: "127.77.2.2")
        try Self.write(directory.path, "extra", gateway: "127.77.2.1", [extra, .init(id: Self.web.id, names: ["web"], address: "127.77.2.3")])
        try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
        #expect(Self.addresses(try Loopback.ask("web", from: "127.77.2.2", to: "127.77.2.1", port: Self.port)) == ["127.77.2.3"])
        #expect(Self.addresses(try Loopback.ask("extra", from: "127.77.0.2", to: "127.77.0.1", port: Self.port)) == ["127.77.2.2"])

        // A gateway that cannot be bound: the reload says so, the rest keeps working.
        try Self.write(directory.path, "bad", gateway: "192.0.2.77", [extra])
        let failure = #expect(throws: SwiftletError.self) {
            try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
        }
        #expect(failure?.message.contains("network net-bad: bind 192.0.2.77:\(Self.port)") == true, "\(String(describing: failure))")
        try NetworkRecords.update(directory: directory.path, networkID: "bad") { $0 = nil }

        // A network gone: its socket closed.
        try NetworkRecords.update(directory: directory.path, networkID: "extra") { $0 = nil }
        try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
        #expect(try Loopback.ask(try DNSMessageTests.query("web"), from: "127.77.2.2", to: "127.77.2.1", port: Self.port) == nil)

        // No containers left: the server exits and cleans up.
        for id in ["front", "back"] { try NetworkRecords.update(directory: directory.path, networkID: id) { $0?.containers = [] } }
        try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
        #expect(server.wait() == .success(.finished))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/control.sock"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/server.pid"))
        // Nothing runs and nothing needs to: reload does nothing.
        try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
    }

    @Test func failedForwardingIsServerFailure() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let resolvConf = directory.path + "-resolv.conf"
        // Nothing listens there: the refusal comes at once.
        try "nameserver 127.77.4.99\nnameserver not-an-address\n".write(toFile: resolvConf, atomically: true, encoding: .utf8)
        defer { unlink(resolvConf) }
        let asker = NetworkRecords.Container(id: "f" + String(repeating: "0", count: 63), names: ["asker"], address: "127.77.4.2")
        try Self.write(directory.path, "lone", gateway: "127.77.4.1", [asker])
        let server = try ServerThread(directory: directory.path, resolvConf: resolvConf, upstreamPort: Self.port + 1)
        #expect(try Loopback.ask("elsewhere", from: "127.77.4.2", to: "127.77.4.1", port: Self.port).responseCode == 2)
        // A second server for the same directory gives way.
        #expect(try DNSServer(directory: directory.path).run() == .anotherServerRuns)
        try NetworkRecords.update(directory: directory.path, networkID: "lone") { $0 = nil }
        try DNSControl.reload(directory: directory.path, serverExecutable: "/nonexistent")
        #expect(server.wait() == .success(.finished))
    }

    /// The built executable, started by ``DNSControl`` as the Runtime starts it.
    @Test func controlStartsTheExecutable() throws {
        let executable = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/swiftlet-dns").path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build swiftlet-dns first (swift build)")
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // Nothing to serve: nothing started.
        try DNSControl.reload(directory: directory.path, serverExecutable: executable)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/control.sock"))

        let one = NetworkRecords.Container(id: "a" + String(repeating: "1", count: 63), names: ["one"], address: "127.77.3.2")
        let two = NetworkRecords.Container(id: "b" + String(repeating: "1", count: 63), names: ["two"], address: "127.77.3.3")
        try Self.write(directory.path, "solo", gateway: "127.77.3.1", [one, two])
        try DNSControl.reload(directory: directory.path, serverExecutable: executable)
        let pidText = try String(contentsOfFile: directory.path + "/server.pid", encoding: .utf8)
        let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Self.addresses(try Loopback.ask("two", from: "127.77.3.2", to: "127.77.3.1", port: Self.port)) == ["127.77.3.3"])
        // Its own session, and not this process's child.
        #expect(getsid(pid) == pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(!status.contains("PPid:\t\(getpid())\n"))

        try NetworkRecords.update(directory: directory.path, networkID: "solo") { $0?.containers.removeAll { $0.id == one.id } }
        try DNSControl.reload(directory: directory.path, serverExecutable: executable)
        #expect(try Loopback.ask("two", from: "127.77.3.2", to: "127.77.3.1", port: Self.port).responseCode == 5)

        try NetworkRecords.update(directory: directory.path, networkID: "solo") { $0 = nil }
        try DNSControl.reload(directory: directory.path, serverExecutable: executable)
        // Gone: the lock it held is free within 10 s, and it left no socket behind.
        var free = false
        for _ in 0..<200 {
            if let lock = try? Lock(path: directory.path + "/server.lock", blocking: false) {
                lock.release()
                free = true
                break
            }
            usleep(50_000)
        }
        #expect(free)
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/control.sock"))
        let log = try String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)
        #expect(log.contains("no containers on any network: exiting"))
    }

    @Test func badArgumentsFail() throws {
        let executable = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/swiftlet-dns").path
        try #require(FileManager.default.isExecutableFile(atPath: executable))
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        for arguments in [["--bogus"], ["--directory"]] {
            let pid = try DNSControl.spawnDetached([executable] + arguments, output: null)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            #expect(WaitStatus.exitCode(status) == 2, "\(arguments)")
        }
    }
}
