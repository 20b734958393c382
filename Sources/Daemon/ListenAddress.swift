import Foundation
import HostSystem

/// Where swiftletd listens, from dockerd's `-H`: `unix:///PATH` or `tcp://HOST:PORT`.
/// Plain TCP is accepted on a loopback address only: anyone who can reach the port could
/// run containers as root (dockerd's own warning); remote access needs TLS with client
/// certificates, which swiftletd does not offer yet, so it is refused with that reason.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(String)
    case tcp(host: String, port: Int)

    public static let defaultSocket = "/run/swiftlet/swiftlet.sock"

    public init(parsing text: String) throws(SwiftletError) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw SwiftletError("invalid -H \(text): use unix:///ABSOLUTE/PATH", code: .invalidArgument) }
            self = .unix(path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                throw SwiftletError("invalid -H \(text): use tcp://HOST:PORT", code: .invalidArgument)
            }
            let host = String(rest[..<colon]).trimmingCharacters(in: ["[", "]"])
            guard ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") else {
                throw SwiftletError("refusing -H \(text): plain TCP on a non-loopback address would give anyone who reaches it root on this host, and TLS with client certificates (--tlsverify) is not supported yet", code: .invalidArgument)
            }
            self = .tcp(host: host, port: port)
        } else {
            throw SwiftletError("invalid -H \(text): use unix:///PATH or tcp://127.0.0.1:PORT", code: .invalidArgument)
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}
