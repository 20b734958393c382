import HostSystem
import ChildProcess
import Foundation
import Testing
@testable import Images

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a temporary config,
/// storage directory and free port; `stop()` ends it. With `htpasswd` (user, password) it
/// asks for basic authentication (the bcrypt hash made by Python's crypt module).
final class TestRegistry {
    let port: Int
    private let process: ChildProcess
    private let directory: TempDirectory

    var host: String { "127.0.0.1:\(port)" }

    init(htpasswd: (user: String, password: String)? = nil) throws {
        directory = try TempDirectory()
        port = try freePort()
        var auth = ""
        if let htpasswd {
            let hash = try ChildProcess.run(["python3", "-W", "ignore", "-c",
                                             "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                                             htpasswd.password])
            guard hash.status == 0, hash.stdout.hasPrefix("$2") else { throw SwiftletError("cannot make a bcrypt hash: \(hash.stderr)") }
            try "\(htpasswd.user):\(hash.stdout)".write(toFile: directory.sub("htpasswd"), atomically: true, encoding: .utf8)
            auth = "auth:\n  htpasswd:\n    realm: test\n    path: \(directory.sub("htpasswd"))\n"
        }
        let config = """
        version: 0.1
        log:
          level: error
        storage:
          filesystem:
            rootdirectory: \(directory.sub("data"))
        \(auth)http:
          addr: 127.0.0.1:\(port)
        """
        try config.write(toFile: directory.sub("config.yml"), atomically: true, encoding: .utf8)
        process = try ChildProcess(["/usr/bin/docker-registry", "serve", directory.sub("config.yml")], stdout: .null, stderr: .null)
        // Ready once it accepts connections; a registry that exits ends the wait early.
        for _ in 0..<200 {
            if acceptsConnections(port: port) { return }
            if process.wait(timeout: 0.05) != nil { break }
        }
        stop()
        throw SwiftletError("docker-registry did not start on \(host)")
    }

    func stop() {
        process.signal(SIGTERM)
        _ = process.waitKilling(after: 10)
        directory.cleanup()
    }
}

/// A loopback TCP proxy in front of a registry that can cut blob downloads short: while
/// `faults` is positive, a response to a `/blobs/` GET is dropped after `cutAfter` bytes
/// (and `faults` decremented). Each connection carries one request (`Connection: close`);
/// requests must not have bodies. With `token` set it also plays a token-authenticating
/// registry: requests without `Authorization: Bearer <token>` get a 401 Bearer challenge
/// whose realm is the proxy's `/token`, which hands out the token for basic `credentials`.
final class FaultProxy: @unchecked Sendable {
    let port: Int
    private let upstream: Int
    private let listener: Int32
    private let lock = NSLock()
    private var remainingFaults: Int
    private let cutAfter: Int
    private(set) var cuts = 0
    /// The bearer token to require, and the `user:password` the token endpoint accepts.
    var token: String?
    var credentials = "user:secret"

    var host: String { "127.0.0.1:\(port)" }

    init(upstream: Int, faults: Int, cutAfter: Int = 32 * 1024) throws {
        self.upstream = upstream
        remainingFaults = faults
        self.cutAfter = cutAfter
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw SwiftletError("proxy: cannot listen") }
        port = try localPort(fd)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func setFaults(_ count: Int) {
        lock.withLock { remainingFaults = count }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var request = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while request.range(of: Data("\r\n\r\n".utf8)) == nil {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return }
            request.append(contentsOf: buffer[0..<count])
        }
        var text = String(decoding: request, as: UTF8.self)
        if let token, let answer = authenticate(text, token: token) {
            let bytes = Array(answer.utf8)
            _ = send(client, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            return
        }
        let isBlob = text.hasPrefix("GET ") && text.prefix(while: { $0 != "\r" }).contains("/blobs/")
        text = text.replacingOccurrences(of: "\r\nConnection: keep-alive", with: "", options: .caseInsensitive)
        text = text.replacingOccurrences(of: "\r\n\r\n", with: "\r\nConnection: close\r\n\r\n")
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var address = loopback(port: upstream)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        let bytes = Array(text.utf8)
        guard send(server, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return }
        var relayed = 0
        while true {
            let count = recv(server, &buffer, buffer.count, 0)
            if count <= 0 { return }
            var toSend = count
            if isBlob && relayed + count > cutAfter {
                let cut = lock.withLock { () -> Bool in
                    guard remainingFaults > 0 else { return false }
                    remainingFaults -= 1
                    cuts += 1
                    return true
                }
                if cut {
                    toSend = cutAfter - relayed
                    _ = send(client, buffer, toSend, Int32(MSG_NOSIGNAL))
                    shutdown(client, Int32(SHUT_RDWR))
                    return
                }
            }
            guard send(client, buffer, toSend, Int32(MSG_NOSIGNAL)) == toSend else { return }
            relayed += toSend
        }
    }
}

extension FaultProxy {
    /// The response to send instead of forwarding, or nil when the request may pass.
    fileprivate func authenticate(_ request: String, token: String) -> String? {
        let lines = request.components(separatedBy: "\r\n")
        let authorization = lines.first { $0.lowercased().hasPrefix("authorization:") }
            .map { String($0.dropFirst("authorization:".count)).trimmingCharacters(in: .whitespaces) }
        if lines.first?.hasPrefix("GET /token") == true {
            guard authorization == "Basic " + Data(credentials.utf8).base64EncodedString() else {
                return "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            }
            let body = #"{"token":"\#(token)"}"#
            return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        }
        if authorization == "Bearer \(token)" { return nil }
        let challenge = #"Bearer realm="http://\#(host)/token",service="test-registry""#
        return "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: \(challenge)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

private func localPort(_ fd: Int32) throws -> Int {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let result = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard result == 0 else { throw SwiftletError("getsockname failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether something listens on 127.0.0.1:`port`.
private func acceptsConnections(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    defer { close(fd) }
    var address = loopback(port: port)
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// A port nothing listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = loopback(port: 0)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return try localPort(fd)
}
