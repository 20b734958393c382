import HostSystem
import ArgumentParser
import Foundation
import Images
import KVM
import Runtime

/// `swiftlet version`: docker's two sections, honestly filled: the client is this
/// executable, and the engine runs in it (no daemon: it works on the state root itself).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the Swiftlet version information.")

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        let root = ContentStore.defaultRoot(runtime.root)
        let api = "\(SwiftletVersion.api.major).\(SwiftletVersion.api.minor)"
        print("""
        Client:
         Version:           \(SwiftletVersion.engine)
         API version:       \(api) (what swiftletd serves to docker clients)
         OS/Arch:           linux/amd64
         Context:           local (no daemon: this process works on the state root)

        Server: Swiftlet Engine (in this process)
         Engine:
          Version:          \(SwiftletVersion.engine)
          Kernel version:   \(HostIdentity.kernelRelease)
          Root dir:         \(root)
          Isolation:        namespace, microvm (\(HostKVM.detect().summary))
        """)
    }
}

/// `swiftlet info`: docker info's Server section for the state root (containers by state,
/// images, drivers, the host).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information.")

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        try reportingErrors {
            let runtime = try runtime.open()
            let containers = runtime.list(all: true)
            let paused = containers.filter { $0.state.isPaused }.count
            let running = containers.filter { $0.state.status == .running }.count - paused
            let images = (try? ImageStore(root: runtime.root).list().count) ?? 0
            let memory = StatsCommand.binarySize(Double(ProcessInfo.processInfo.physicalMemory))
            print("""
            Client:
             Version:    \(SwiftletVersion.engine)
             Context:    local (no daemon)

            Server:
             Containers: \(containers.count)
              Running: \(running)
              Paused: \(paused)
              Stopped: \(containers.count - running - paused)
             Images: \(images)
             Server Version: \(SwiftletVersion.engine)
             Storage Driver: swiftlet
              Rootfs: EROFS image + writable layer
             Logging Driver: json-file
             Cgroup Driver: cgroupfs
             Cgroup Version: \(HostFacts.cgroupVersion)
             Runtimes: swiftlet-microvm swiftlet-namespace
             Default Runtime: swiftlet-microvm
             KVM: \(HostKVM.detect().summary)
             Kernel Version: \(HostIdentity.kernelRelease)
             Operating System: \(HostFacts.operatingSystem)
             OSType: linux
             Architecture: x86_64
             CPUs: \(ProcessInfo.processInfo.activeProcessorCount)
             Total Memory: \(memory)
             Name: \(ProcessInfo.processInfo.hostName)
             Root Dir: \(runtime.root)
            """)
        }
    }
}

/// `swiftlet events`: the state root's event journal in docker's format, new events only
/// unless `--since`, followed until interrupted unless `--until`.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Get real time events from the state root's journal.")

    @OptionGroup var runtime: RuntimeOptions
    @Option(help: "Show events since this time (Unix seconds, a duration like 10m, or an RFC 3339 date).")
    var since: String?
    @Option(help: "Stream events until this time (same forms as --since).")
    var until: String?
    @Option(name: [.customShort("f"), .long], help: "Filter: type=, event=, container=, image= (repeatable).")
    var filter: [String] = []

    func run() throws {
        try reportingErrors {
            var selection = EventSelection()
            selection.since = try since.map { try EventSelection.timestamp($0) }
            selection.until = try until.map { try EventSelection.timestamp($0) }
            for entry in filter {
                guard let equals = entry.firstIndex(of: "=") else {
                    throw SwiftletError("bad format of filter (expected name=value)", code: .invalidArgument)
                }
                let key = String(entry[..<equals]), value = String(entry[entry.index(after: equals)...])
                guard EventSelection.filterKeys.contains(key) else { throw SwiftletError("Invalid filter '\(key)'", code: .invalidArgument) }
                selection.filters[key, default: []].insert(value)
            }
            let root = try runtime.open().root
            let start = selection.since == nil ? EventJournal.end(root: root) : 0
            try EventJournal.follow(root: root, from: start, selection: selection) { event in
                print(Self.line(event))
                fflush(nil)
                return true
            }
        }
    }

    /// The docker CLI's line: local time with nanoseconds, type, action, id, then the
    /// attributes sorted, `(k=v, …)`.
    static func line(_ event: EngineEvent) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let seconds = Date(timeIntervalSince1970: Double(event.timeNano / 1_000_000_000))
        formatter.timeZone = .current
        let zone = DateFormatter()
        zone.locale = formatter.locale
        zone.dateFormat = "XXXXX"
        let time = "\(formatter.string(from: seconds)).\(String(format: "%09d", event.timeNano % 1_000_000_000))\(zone.string(from: seconds))"
        let attributes = event.Actor.Attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "\(time) \(event.Type) \(event.Action) \(event.Actor.ID)\(attributes.isEmpty ? "" : " (\(attributes))")"
    }
}

/// The system commands, registered in `Swiftlet`.
let systemCommands: [any ParsableCommand.Type] = [InfoCommand.self, VersionCommand.self, EventsCommand.self, LoginCommand.self, LogoutCommand.self]
