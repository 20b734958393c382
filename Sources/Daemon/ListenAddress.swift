import Foundation
import HostSystem

/// Where swiftletd listens, from dockerd's `-H`: `unix:///PATH`, `tcp://HOST:PORT`, or
/// `fd://` / `fd://N` (sockets systemd passed by socket activation: all of them, or the
/// one that is descriptor N). Whether a TCP address may be served, and with what
/// protection, is ``TransportSecurity``'s decision.
public enum ListenAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(String)
    case tcp(host: String, port: Int)
    /// Socket-activated descriptors: nil for all of them.
    case systemd(descriptor: Int32?)

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
            guard !host.isEmpty else { throw SwiftletError("invalid -H \(text): use tcp://HOST:PORT", code: .invalidArgument) }
            self = .tcp(host: host, port: port)
        } else if text.hasPrefix("fd://") {
            let number = text.dropFirst("fd://".count)
            if number.isEmpty || number == "*" {
                self = .systemd(descriptor: nil)
            } else if let descriptor = Int32(number), descriptor >= SocketActivation.firstDescriptor {
                self = .systemd(descriptor: descriptor)
            } else {
                throw SwiftletError("invalid -H \(text): use fd:// (every socket systemd passed) or fd://N (N ≥ 3)", code: .invalidArgument)
            }
        } else {
            throw SwiftletError("invalid -H \(text): use unix:///PATH, tcp://HOST:PORT or fd://", code: .invalidArgument)
        }
    }

    /// A TCP address only this host can reach.
    public var isLoopback: Bool {
        guard case .tcp(let host, _) = self else { return false }
        return ["::1", "localhost"].contains(host) || host.hasPrefix("127.")
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .systemd(let descriptor): "fd://\(descriptor.map(String.init) ?? "")"
        }
    }
}
