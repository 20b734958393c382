import Foundation
import HostSystem
import NIOSSL

/// TLS on swiftletd's TCP listeners, with dockerd's flags: `--tlsverify` (TLS, and every
/// client must present a certificate signed by `--tlscacert`), `--tls` (TLS with the
/// server's certificate only), `--tlscert`/`--tlskey` the server's PEM certificate chain
/// and key. Unix sockets and socket-activated descriptors are served without TLS, as
/// dockerd's are.
///
/// Whoever reaches the API can run containers as root on this host (dockerd's own
/// warning), so ``permit(_:)`` refuses a TCP address other hosts can reach unless clients
/// must prove who they are: `--tlsverify`. Plain TCP and `--tls` alone are for loopback.
public struct TransportSecurity: Sendable {
    /// What a TCP listener asks of its clients.
    public enum Mode: Sendable, Equatable {
        /// Plain HTTP.
        case plain
        /// TLS; clients are not asked for a certificate.
        case serverCertificate
        /// TLS; clients must present a certificate the CA signed (mutual TLS).
        case clientCertificates
    }

    public let mode: Mode
    /// The server's TLS context for TCP listeners; nil when ``mode`` is `.plain`.
    let context: NIOSSLContext?

    /// Plain TCP (loopback only).
    public static let plain = TransportSecurity(mode: .plain, context: nil)

    private init(mode: Mode, context: NIOSSLContext?) {
        self.mode = mode
        self.context = context
    }

    /// From the flags; a missing, unreadable or malformed file is an error naming the
    /// flag and the file.
    public init(tls: Bool, verify: Bool, caFile: String?, certificateFile: String?, keyFile: String?) throws(SwiftletError) {
        guard tls || verify else {
            if let given = [("--tlscacert", caFile), ("--tlscert", certificateFile), ("--tlskey", keyFile)].first(where: { $0.1 != nil }) {
                throw SwiftletError("\(given.0) needs --tls or --tlsverify", code: .invalidArgument)
            }
            self = .plain
            return
        }
        guard let certificateFile, let keyFile else {
            throw SwiftletError("--tls and --tlsverify need the server's certificate and key: --tlscert FILE --tlskey FILE",
                                code: .invalidArgument)
        }
        let chain = try Self.load("--tlscert", certificateFile) { bytes in try NIOSSLCertificate.fromPEMBytes(bytes) }
        let key = try Self.load("--tlskey", keyFile) { bytes in [try NIOSSLPrivateKey(bytes: bytes, format: .pem)] }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key[0]))
        if verify {
            guard let caFile else {
                throw SwiftletError("--tlsverify needs the CA that signs client certificates: --tlscacert FILE", code: .invalidArgument)
            }
            let authorities = try Self.load("--tlscacert", caFile) { bytes in try NIOSSLCertificate.fromPEMBytes(bytes) }
            configuration.trustRoots = .certificates(authorities)
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SwiftletError("cannot use --tlscert \(certificateFile) with --tlskey \(keyFile): \(error)", code: .invalidArgument)
        }
        mode = verify ? .clientCertificates : .serverCertificate
    }

    /// Refuses `address` when clients that reach it would not have to prove who they are
    /// and it is reachable from other hosts.
    public func permit(_ address: ListenAddress) throws(SwiftletError) {
        guard case .tcp = address, !address.isLoopback, mode != .clientCertificates else { return }
        throw SwiftletError("refusing -H \(address): \(mode == .plain ? "plain TCP" : "TLS without client certificates") on a "
            + "non-loopback address would give anyone who reaches it root on this host; "
            + "use --tlsverify --tlscacert FILE --tlscert FILE --tlskey FILE", code: .invalidArgument)
    }

    /// The PEM objects of `file` (given with `flag`): at least one.
    private static func load<Object>(_ flag: String, _ file: String, _ parse: ([UInt8]) throws -> [Object]) throws(SwiftletError) -> [Object] {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SwiftletError("\(flag) \(file): cannot read it", code: .invalidArgument, errno: errno) }
        let data: Data
        do {
            data = try FileHandle(fileDescriptor: descriptor, closeOnDealloc: true).readToEnd() ?? Data()
        } catch {
            throw SwiftletError("\(flag) \(file): cannot read it: \(error)", code: .invalidArgument)
        }
        do {
            let objects = try parse(Array(data))
            guard !objects.isEmpty else { throw SwiftletError("empty") }
            return objects
        } catch {
            throw SwiftletError("\(flag) \(file): not a PEM \(flag == "--tlskey" ? "private key" : "certificate") (\(error))",
                                code: .invalidArgument)
        }
    }
}
