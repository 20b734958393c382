import HostSystem
import Foundation
import ChildProcess
import Images
#if canImport(Glibc)
import Glibc
#endif

/// The host's network devices for the bridge network, made with `ip` (iproute2, installed
/// by scripts/setup): the bridge itself, a veth pair per namespace container (the peer
/// created directly in the container's network namespace as eth0), a persistent TAP per
/// microVM container (opened by the VMM with a vnet header). Every host end is enslaved
/// to the bridge and up.
enum HostLinks {
    /// Serialises bridge creation (and its packet filter rules) between processes starting containers at once.
    private static let bridgeLock = "/run/swiftlet-bridge.lock"

    /// Creates `bridge` with `address`/`prefix` and brings it up, unless it is already up.
    static func ensureBridge(_ bridge: String, address: IPv4Address, prefix: Int) throws {
        if isUp(bridge) { return }
        try withBridgeLock {
            if isUp(bridge) { return }
            if !exists(bridge) { try ip(["link", "add", bridge, "type", "bridge"], what: "creating the bridge \(bridge)") }
            try ip(["addr", "replace", "\(address)/\(prefix)", "dev", bridge], what: "addressing the bridge \(bridge)")
            try ip(["link", "set", bridge, "up"], what: "bringing the bridge \(bridge) up")
        }
    }

    /// Creates `bridge` with `address`/`prefix`, up (a user-defined network's, at `network
    /// create`; the caller holds the bridge lock). A leftover bridge of that name is
    /// readdressed.
    static func createBridge(_ bridge: String, address: IPv4Address, prefix: Int) throws {
        if !exists(bridge) { try ip(["link", "add", bridge, "type", "bridge"], what: "creating the bridge \(bridge)") }
        do {
            try ip(["addr", "replace", "\(address)/\(prefix)", "dev", bridge], what: "addressing the bridge \(bridge)")
            try ip(["link", "set", bridge, "up"], what: "bringing the bridge \(bridge) up")
        } catch {
            delete(bridge)
            throw error
        }
    }

    /// Runs `body` holding the bridge lock (an exclusive `flock`, between processes).
    static func withBridgeLock<T>(_ body: () throws -> T) throws -> T {
        let fd = try sys("open \(bridgeLock)") { open(bridgeLock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        try sys("flock \(bridgeLock)") { flock(fd, LOCK_EX) }
        return try body()
    }

    /// A veth pair: `hostEnd` on the bridge, its peer (eth0, eth1, …) with `mac` in the
    /// network namespace of process `pid`. The first interface is configured there by the
    /// container's child; with `configure`, this process gives the peer its address and
    /// brings it up (another network's interface, at start or at `network connect`).
    static func addVeth(_ attachment: NetworkAttachment, namespaceOf pid: pid_t, configure: Bool = false) throws {
        delete(attachment.hostInterface)
        try ip(["link", "add", attachment.hostInterface, "type", "veth", "peer", "name", attachment.containerInterface,
                "address", attachment.macAddress, "netns", "\(pid)"], what: "creating the container's veth pair")
        try enslave(attachment)
        guard configure else { return }
        do {
            let inside = ["-t", "\(pid)", "-n", try ipTool()]
            try runTool(try nsenterTool(), inside + ["addr", "add", "\(attachment.address)/\(attachment.prefix)", "dev", attachment.containerInterface],
                        what: "addressing \(attachment.containerInterface) in the container")
            try runTool(try nsenterTool(), inside + ["link", "set", attachment.containerInterface, "up"],
                        what: "bringing \(attachment.containerInterface) up in the container")
        } catch {
            delete(attachment.hostInterface)
            throw error
        }
    }

    /// `nsenter` (util-linux), which runs `ip` inside a container's network namespace.
    static func nsenterTool() throws -> String {
        try networkTool("nsenter", package: "util-linux")
    }

    /// A persistent TAP device on the bridge for a microVM's virtio-net.
    static func addTap(_ attachment: NetworkAttachment) throws {
        delete(attachment.hostInterface)
        try ip(["tuntap", "add", "dev", attachment.hostInterface, "mode", "tap", "vnet_hdr"],
               what: "creating the container's TAP device")
        try enslave(attachment)
    }

    /// Deletes a link if it exists (errors ignored: it may vanish with its namespace).
    static func delete(_ name: String) {
        guard exists(name) else { return }
        try? ip(["link", "del", name], what: "deleting \(name)")
    }

    static func exists(_ name: String) -> Bool {
        access("/sys/class/net/\(name)", F_OK) == 0
    }

    /// Whether the interface has IFF_UP (`flags` in sysfs, hexadecimal).
    static func isUp(_ name: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(name)/flags", encoding: .utf8),
              let flags = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16) else {
            return false
        }
        return flags & UInt32(IFF_UP) != 0
    }

    private static func enslave(_ attachment: NetworkAttachment) throws {
        do {
            try ip(["link", "set", attachment.hostInterface, "master", attachment.bridge, "up"],
                   what: "attaching \(attachment.hostInterface) to \(attachment.bridge)")
        } catch {
            delete(attachment.hostInterface)
            throw error
        }
    }

    /// A tool the bridge network needs, `name` from `package`: found on PATH or in the sbin
    /// directories (not always on a non-login PATH), as ChildProcess.locate looks.
    static func networkTool(_ name: String, package: String) throws -> String {
        guard let path = ChildProcess.locate(name) else {
            throw SwiftletError("--network bridge needs \(name) (\(package)), not found on PATH or in /usr/sbin, /sbin; use --network none")
        }
        return path
    }

    /// The `ip` executable.
    static func ipTool() throws -> String {
        try networkTool("ip", package: "iproute2")
    }

    private static func ip(_ arguments: [String], what: String) throws {
        do {
            try runTool(try ipTool(), arguments, what: what)
        } catch let error as SwiftletError {
            throw error
        } catch {
            throw SwiftletError("\(error)")
        }
    }
}
