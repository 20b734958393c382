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
        abstract: "The Swiftlet daemon: serves the Docker Engine API for the containers, images and volumes of a state root.")

    @Option(help: "State root (default: $SWIFTLET_ROOT or /var/lib/swiftlet).")
    var root: String?
    @Option(name: [.customShort("H"), .long], help: "Where to listen: unix:///PATH or tcp://127.0.0.1:PORT (repeatable; default unix://\(ListenAddress.defaultSocket)).")
    var host: [String] = []
    @Option(help: "Isolation of containers that ask for none: microvm or namespace.")
    var defaultIsolation = "microvm"
    @Flag(help: "Log every request.")
    var debug = false

    func run() async throws {
        var logger = Logger(label: "swiftletd")
        logger.logLevel = debug ? .debug : .info
        let addresses: [ListenAddress]
        let isolation: Isolation
        do {
            addresses = try (host.isEmpty ? ["unix://\(ListenAddress.defaultSocket)"] : host).map { text throws(SwiftletError) in
                try ListenAddress(parsing: text)
            }
            guard let chosen = Isolation(rawValue: defaultIsolation) else {
                throw SwiftletError("invalid --default-isolation '\(defaultIsolation)': use microvm or namespace", code: .invalidArgument)
            }
            isolation = chosen
        } catch {
            FileHandle.standardError.write(Data("swiftletd: \(error)\n".utf8))
            throw ExitCode(125)
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let engine = try Engine(root: ContentStore.defaultRoot(root), executable: Self.cliBeside(executable),
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
        for address in addresses {
            if case .unix(let path) = address {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
            }
            do {
                channels.append(try await server.listen(on: address))
            } catch {
                FileHandle.standardError.write(Data("swiftletd: \(error)\n".utf8))
                throw ExitCode(1)
            }
            logger.info("API listening on \(address)")
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

    /// The runtime starts containers' monitors from beside the `swiftlet` executable:
    /// the daemon is installed next to it.
    static func cliBeside(_ executable: String) -> String {
        URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("swiftlet").path
    }
}
