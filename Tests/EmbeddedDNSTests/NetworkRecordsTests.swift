import Foundation
import HostSystem
import Testing
@testable import EmbeddedDNS

/// A fresh directory under /tmp, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "swiftlet-dns-test-\(UUID().uuidString.prefix(8))"
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct NetworkRecordsTests {
    static let web = NetworkRecords.Container(id: String(repeating: "a", count: 64), names: ["web", "aaaaaaaaaaaa"], address: "10.89.0.2")
    static let db = NetworkRecords.Container(id: String(repeating: "b", count: 64), names: ["db", "store"], address: "10.89.0.3")

    @Test func updateWritesChangesAndRemoves() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let nested = directory.path + "/run/dns"
        try NetworkRecords.update(directory: nested, networkID: "n1") { records in
            #expect(records == nil)
            records = NetworkRecords(network: "mynet", gateway: "10.89.0.1", subnet: "10.89.0.0/24", containers: [Self.web])
        }
        var info = stat()
        #expect(stat(nested, &info) == 0 && info.st_mode & 0o777 == 0o755)
        try NetworkRecords.update(directory: nested, networkID: "n1") { records in
            #expect(records?.containers == [Self.web])
            records?.containers.append(Self.db)
        }
        #expect(NetworkRecords.all(directory: nested) == [
            "n1": NetworkRecords(network: "mynet", gateway: "10.89.0.1", subnet: "10.89.0.0/24", containers: [Self.web, Self.db]),
        ])
        // No containers left: the file goes.
        try NetworkRecords.update(directory: nested, networkID: "n1") { $0?.containers = [] }
        #expect(!FileManager.default.fileExists(atPath: NetworkRecords.path(directory: nested, networkID: "n1")))
        try NetworkRecords.update(directory: nested, networkID: "n2") { $0 = NetworkRecords(network: "b", gateway: "10.90.0.1", subnet: "", containers: [Self.db]) }
        try NetworkRecords.update(directory: nested, networkID: "n2") { $0 = nil }
        #expect(NetworkRecords.all(directory: nested).isEmpty)
    }

    @Test func concurrentUpdatesAreAllKept() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path
        let threads = try (0..<8).map { index in
            try PosixThread {
                try? NetworkRecords.update(directory: path, networkID: "shared") { records in
                    var network = records ?? NetworkRecords(network: "shared", gateway: "10.89.0.1", subnet: "10.89.0.0/24")
                    network.containers.append(.init(id: "\(index)", names: ["c\(index)"], address: "10.89.0.\(index + 2)"))
                    records = network
                }
            }
        }
        threads.forEach { $0.join() }
        #expect(NetworkRecords.all(directory: path)["shared"]?.containers.map(\.id).sorted() == (0..<8).map(String.init))
    }

    @Test func readsTheDocumentedFormat() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        let json = """
            {"network": "mynet", "gateway": "10.89.0.1", "subnet": "10.89.0.0/24",
             "containers": [{"id": "\(Self.web.id)", "names": ["web", "aaaaaaaaaaaa"], "address": "10.89.0.2"}]}
            """
        try json.write(toFile: directory.path + "/abc.json", atomically: true, encoding: .utf8)
        try "{not json".write(toFile: directory.path + "/broken.json", atomically: true, encoding: .utf8)
        try "{}".write(toFile: directory.path + "/empty.json", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: directory.path + "/notes.txt", atomically: true, encoding: .utf8)
        let all = NetworkRecords.all(directory: directory.path)
        #expect(all.keys.sorted() == ["abc"])
        #expect(all["abc"]?.port == 53 && all["abc"]?.containers == [Self.web])
        #expect(NetworkRecords.all(directory: directory.path + "/missing").isEmpty)
    }

    @Test func rejectsIDsThatLeaveTheDirectory() {
        for id in ["", "../x", "a/b", ".hidden"] {
            #expect(throws: SwiftletError.self) { try NetworkRecords.update(directory: "/tmp/unused-dns", networkID: id) { _ in } }
        }
    }

    @Test func bodyErrorsLeaveTheFileAlone() throws {
        struct Stop: Error {}
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try NetworkRecords.update(directory: directory.path, networkID: "n") {
            $0 = NetworkRecords(network: "n", gateway: "10.89.0.1", subnet: "", port: 5353, containers: [Self.web])
        }
        #expect(throws: Stop.self) { try NetworkRecords.update(directory: directory.path, networkID: "n") { $0 = nil; throw Stop() } }
        #expect(NetworkRecords.all(directory: directory.path)["n"]?.port == 5353)
    }
}
