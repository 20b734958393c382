import Foundation
import HostSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host ports of running containers, held as Docker's docker-proxy holds them: a
/// socket bound to each published address and port (listening, for TCP) in the
/// container's monitor for as long as the container runs. The bind is the check that the
/// port is free (another container's or any host process's socket makes it fail) and
/// picks ephemeral ports (port 0: the kernel's choice). No traffic reaches these
/// sockets: the DNAT rules redirect it before local delivery. The sockets close when
/// released or when the monitor exits, however it ends.
enum PortReservations {
    private static let held = Mutex<[String: [Int32]]>([:])

    /// Binds every binding's host port for container `id`; returns them with their host
    /// ports settled. On failure nothing stays bound and the error names the busy port
    /// (Docker's "port is already allocated").
    static func reserve(_ bindings: [PortBinding], for id: String) throws -> [PublishedPort] {
        var sockets: [Int32] = []
        var published: [PublishedPort] = []
        do {
            for binding in bindings {
                let (fd, port) = try bind(binding)
                sockets.append(fd)
                published.append(PublishedPort(hostIP: binding.hostIP, hostPort: port,
                                               containerPort: binding.containerPort, proto: binding.proto))
            }
        } catch {
            sockets.forEach { close($0) }
            throw error
        }
        held.withLock { $0[id, default: []] += sockets }
        return published
    }

    /// Closes container `id`'s sockets held by this process (none is fine).
    static func release(_ id: String) {
        let sockets = held.withLock { $0.removeValue(forKey: id) } ?? []
        sockets.forEach { close($0) }
    }

    private static func bind(_ binding: PortBinding) throws -> (Int32, UInt16) {
        let endpoint = "\(binding.hostIP?.description ?? "0.0.0.0"):\(binding.hostPort.map(String.init) ?? "0")"
        let type = binding.proto == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = try sys("socket for \(endpoint)") { socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = (binding.hostPort ?? 0).bigEndian
        address.sin_addr.s_addr = binding.hostIP?.networkOrder ?? 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound < 0 || (binding.proto == .tcp && listen(fd, 1) < 0) {
            let error = errno
            close(fd)
            if error == EADDRINUSE {
                throw SwiftletError("Bind for \(endpoint) failed: port is already allocated", code: .conflict)
            }
            throw SwiftletError("cannot publish \(endpoint)/\(binding.proto.rawValue)", errno: error)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if named < 0 {
            let error = errno
            close(fd)
            throw SwiftletError("getsockname for \(endpoint)", errno: error)
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }
}
