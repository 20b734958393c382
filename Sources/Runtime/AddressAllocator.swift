import Foundation
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// Hands out the container addresses of one subnet (IPAM, like Docker's default
/// allocator): `allocations.json` maps container id → address, read and rewritten under
/// an exclusive `flock` on `lock` in `directory`, so monitors and CLI processes starting
/// containers at once never get the same address. An id keeps its address until
/// released; the lowest free address is given out next.
struct AddressAllocator: Sendable {
    let directory: String
    let subnet: IPv4Subnet
    /// The bridge's address, never given to a container.
    let gateway: IPv4Address
    private let name: String

    init(directory: String, name: String, subnet: IPv4Subnet, gateway: IPv4Address? = nil) {
        self.directory = directory
        self.name = name
        self.subnet = subnet
        self.gateway = gateway ?? subnet.gateway
    }

    var tablePath: String { "\(directory)/\(name).json" }
    private var lockPath: String { "\(directory)/\(name).lock" }

    /// The address reserved for `id`: the one it already holds, else the lowest free one.
    func allocate(for id: String) throws -> IPv4Address {
        try withTable { table in
            if let held = table[id] { return held }
            let taken = Set(table.values.map(\.value) + [gateway.value])
            guard let free = subnet.hostAddresses.first(where: { !taken.contains($0) }) else {
                throw SwiftletError("no free address left in \(subnet) on \(name): \(table.count) containers hold one each; stop or remove one")
            }
            table[id] = IPv4Address(free)
            return IPv4Address(free)
        }
    }

    /// Frees `id`'s address (nothing when it holds none).
    func release(_ id: String) throws {
        try withTable { table in table[id] = nil }
    }

    /// Every reservation: container id → address.
    func allocations() throws -> [String: IPv4Address] {
        try withTable { $0 }
    }

    /// Deletes the table and its lock file (a removed network's, which no container uses:
    /// nobody else waits for the lock).
    func removeTable() {
        unlink(tablePath)
        unlink(lockPath)
    }

    private func withTable<T>(_ body: (inout [String: IPv4Address]) throws -> T) throws -> T {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = try sys("open \(lockPath)") { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(lockPath)") { flock(fd, LOCK_EX) }
        var table: [String: IPv4Address] = [:]
        if let data = FileManager.default.contents(atPath: tablePath), !data.isEmpty {
            table = try decode([String: IPv4Address].self, data, what: tablePath)
        }
        let before = table
        let result = try body(&table)
        if table != before {
            for (id, address) in table where !subnet.contains(address) {
                throw SwiftletError("\(tablePath): \(address) of \(id) is outside \(subnet)")
            }
            let bytes = Array(try encode(table))
            try AtomicFile.write(bytes, to: tablePath)
        }
        return result
    }
}
