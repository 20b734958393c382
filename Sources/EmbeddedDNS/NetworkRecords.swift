import Foundation
import HostSystem

/// The names one user-defined network's embedded DNS server answers for: the A records
/// (RFC 1035 §3.4.1) of its containers, as the Runtime writes them, one JSON file per
/// network, `<directory>/<network-id>.json`:
///
///     {"network": "mynet", "gateway": "10.89.0.1", "subnet": "10.89.0.0/24", "port": 53,
///      "containers": [{"id": "<64 hex>", "names": ["web", "<12 hex>"], "address": "10.89.0.2"}]}
///
/// `port` may be left out (53). Writers go through ``update(directory:networkID:_:)``.
public struct NetworkRecords: Codable, Equatable, Sendable {
    /// One container on the network: the owner names of its A records (every name it
    /// answers to: name, aliases, short id) and their RDATA, its address there (RFC 1035 §3.4.1).
    public struct Container: Codable, Equatable, Sendable {
        public var id: String
        public var names: [String]
        public var address: String

        public init(id: String, names: [String], address: String) {
            self.id = id
            self.names = names
            self.address = address
        }
    }

    /// Where the Runtime keeps the record files and the server its socket, lock and log.
    public static let defaultDirectory = "/run/swiftlet/network/dns"

    public var network: String
    /// The bridge's address: the server listens there.
    public var gateway: String
    public var subnet: String
    public var port: UInt16
    public var containers: [Container]
    /// An internal network's containers have no way out: names unknown here are not
    /// forwarded (NXDOMAIN).
    public var `internal`: Bool

    public init(network: String, gateway: String, subnet: String, port: UInt16 = 53, containers: [Container] = [],
                internal: Bool = false) {
        self.network = network
        self.gateway = gateway
        self.subnet = subnet
        self.port = port
        self.containers = containers
        self.internal = `internal`
    }

    private enum CodingKeys: String, CodingKey { case network, gateway, subnet, port, containers, `internal` }

    public init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        network = try values.decode(String.self, forKey: .network)
        gateway = try values.decode(String.self, forKey: .gateway)
        subnet = try values.decodeIfPresent(String.self, forKey: .subnet) ?? ""
        port = try values.decodeIfPresent(UInt16.self, forKey: .port) ?? 53
        containers = try values.decodeIfPresent([Container].self, forKey: .containers) ?? []
        self.internal = try values.decodeIfPresent(Bool.self, forKey: .internal) ?? false
    }

    /// The record file of `networkID` in `directory`.
    public static func path(directory: String, networkID: String) -> String { "\(directory)/\(networkID).json" }

    /// Reads, changes and writes the records of `networkID` under an exclusive lock on
    /// `<directory>/records.lock` (flock(2)), so concurrent writers never lose an update.
    /// `body` gets nil when there is no file yet; the file is written atomically, and
    /// removed when `body` leaves nil or a network without containers.
    public static func update(directory: String, networkID: String, _ body: (inout NetworkRecords?) throws -> Void) throws {
        guard !networkID.isEmpty, !networkID.hasPrefix("."), !networkID.contains("/") else {
            throw SwiftletError("network id \"\(networkID)\"", code: .invalidArgument)
        }
        try makeDirectory(directory)
        let lock = try Lock(path: "\(directory)/records.lock", blocking: true)
        defer { lock.release() }
        let path = path(directory: directory, networkID: networkID)
        var records: NetworkRecords?
        if FileManager.default.fileExists(atPath: path) {
            do {
                records = try JSONDecoder().decode(NetworkRecords.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw SwiftletError.wrap(error, "read \(path)")
            }
        }
        try body(&records)
        guard let records, !records.containers.isEmpty else {
            if unlink(path) != 0 && errno != ENOENT { throw SwiftletError.last("remove \(path)") }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(try encoder.encode(records)), to: path)
    }

    /// Every network's records in `directory` by network id (the file name without
    /// `.json`); files that cannot be read or decoded are skipped.
    public static func all(directory: String) -> [String: NetworkRecords] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var result: [String: NetworkRecords] = [:]
        for name in names where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            guard let data = FileManager.default.contents(atPath: path),
                  let records = try? JSONDecoder().decode(NetworkRecords.self, from: data) else { continue }
            result[String(name.dropLast(5))] = records
        }
        return result
    }

    /// Creates `directory` and its parents, mode 0755, unless it exists.
    static func makeDirectory(_ directory: String) throws(SwiftletError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        } catch {
            throw SwiftletError.wrap(error, "create \(directory)")
        }
    }
}

/// An exclusive flock(2) on a file, created if needed (mode 0600); released by
/// ``release()`` or when the process ends.
struct Lock {
    let fd: Int32

    /// Takes the lock, waiting for it when `blocking`; throws (errno EWOULDBLOCK) when it
    /// is held elsewhere and not `blocking`.
    init(path: String, blocking: Bool) throws(SwiftletError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .last("open \(path)") }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | (blocking ? 0 : LOCK_NB)) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let failure = SwiftletError.last("lock \(path)")
            close(fd)
            throw failure
        }
    }

    func release() { close(fd) }
}
