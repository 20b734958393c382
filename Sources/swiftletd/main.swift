import ArgumentParser
import Daemon
import Foundation
import HostSystem
import Images
import Logging
import NIOCore
import Runtime

/// `swiftletd`: the Docker Engine API over the state root the `swiftlet` CLI uses.
@main
struct SwiftletDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftletd",
        abstract: "The Swiftlet daemon: serves the Docker Engine API for the containers, images and volumes of a state root.",
        version: SwiftletVersion.engine)

    @Option(help: "State root (default: $SWIFTLET_ROOT or /var/lib/swiftlet).")
    var root: String?
    @Option(name: [.customShort("H"), .long], help: ArgumentHelp(
        "Where to listen: unix:///PATH, tcp://HOST:PORT or fd:// (systemd socket activation) (repeatable; default unix://\(ListenAddress.defaultSocket)).",
        discussion: "TCP on an address other hosts can reach needs --tlsverify."))
    var host: [String] = []
    @Flag(name: .customLong("tls"), help: "Serve TCP over TLS (--tlscert, --tlskey); clients need no certificate, so loopback only.")
    var tls = false
    @Flag(name: .customLong("tlsverify"), help: "Serve TCP over TLS and require client certificates signed by --tlscacert.")
    var tlsVerify = false
    @Option(name: .customLong("tlscacert"), help: "PEM file of the CA whose client certificates are accepted (--tlsverify).")
    var tlsCACertificate: String?
    @Option(name: .customLong("tlscert"), help: "PEM file of the server's certificate (chain).")
    var tlsCertificate: String?
    @Option(name: .customLong("tlskey"), help: "PEM file of the server's private key.")
    var tlsKey: String?
    @Option(help: "Isolation of containers that ask for none: microvm or namespace.")
    var defaultIsolation = "microvm"
    @Flag(help: "Log every request.")
    var debug = false

    func run() async throws {
        var logger = Logger(label: "swiftletd")
        logger.logLevel = debug ? .debug : .info
        let addresses: [ListenAddress]
        let security: TransportSecurity
        let activated: [[Int32]]
        let isolation: Isolation
        do {
            addresses = try (host.isEmpty ? ["unix://\(ListenAddress.defaultSocket)"] : host).map { text throws(SwiftletError) in
                try ListenAddress(parsing: text)
            }
            security = try TransportSecurity(tls: tls, verify: tlsVerify, caFile: tlsCACertificate, certificateFile: tlsCertificate,
                                             keyFile: tlsKey)
            for address in addresses { try security.permit(address) }
            guard let chosen = Isolation(rawValue: defaultIsolation) else {
                throw SwiftletError("invalid --default-isolation '\(defaultIsolation)': use microvm or namespace", code: .invalidArgument)
            }
            isolation = chosen
            activated = try SocketActivation.claim(for: addresses)
        } catch {
            FileHandle.standardError.write(Data("swiftletd: \(error)\n".utf8))
            throw ExitCode(125)
        }
        // The runtime starts containers' monitors as the CLI does: swiftletd is installed
        // beside `swiftlet`.
        let engine = try Engine(root: ContentStore.defaultRoot(root), executable: InstallLayout.running().executableDirectory + "/swiftlet",
                                defaultIsolation: isolation, debug: debug)
        // As dockerd at start-up, before it serves: containers whose restart policy brings
        // them back (after this daemon's restart or the host's reboot) are started; running
        // ones are left to their monitors (live restore).
        let restarted = await Task.detached { engine.runtime.startRestartableContainers() }.value
        for (id, failure) in restarted {
            if let failure {
                logger.error("cannot restart container \(id.prefix(12)) by its restart policy: \(failure)")
            } else {
                logger.info("restarted container \(id.prefix(12)) by its restart policy")
            }
        }
        let server = APIServer(engine: engine, logger: logger)
        var channels: [any Channel] = []
        for (address, descriptors) in zip(addresses, activated) {
            if case .unix(let path) = address {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
            }
            do {
                channels += try await server.listen(on: address, security: security, activated: descriptors)
            } catch {
                FileHandle.standardError.write(Data("swiftletd: \(error)\n".utf8))
                throw ExitCode(1)
            }
            logger.info("API listening on \(Self.describe(address, security: security, descriptors: descriptors))")
        }
        let listening = channels
        let stop: @Sendable (Int32) -> Void = { _ in listening.forEach { $0.close(promise: nil) } }
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop(number) }
            source.resume()
            return source
        }
        for channel in channels { try? await channel.closeFuture.get() }
        signals.forEach { $0.cancel() }
        for case .unix(let path) in addresses { unlink(path) }
        logger.info("stopped")
    }

    /// A listener for the log: its address, an `fd://`'s descriptors, a TCP one's TLS.
    static func describe(_ address: ListenAddress, security: TransportSecurity, descriptors: [Int32]) -> String {
        switch (address, security.mode) {
        case (.systemd, _): "\(address) (descriptors \(descriptors.map(String.init).joined(separator: ", ")))"
        case (.tcp, .serverCertificate): "\(address) (TLS)"
        case (.tcp, .clientCertificates): "\(address) (TLS, client certificates verified)"
        default: "\(address)"
        }
    }
}
