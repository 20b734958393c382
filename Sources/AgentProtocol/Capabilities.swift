import HostSystem

/// A set of Linux capabilities (linux/capability.h numbers, capabilities(7)) as the bit
/// mask the container children apply: Docker's default set (moby oci/caps/defaults.go),
/// `--cap-add`/`--cap-drop` with names or `ALL`, and the names a seccomp profile's
/// capability-conditional rules test.
public struct Capabilities: Equatable, Sendable {
    public var mask: UInt64

    public init(mask: UInt64) {
        self.mask = mask
    }

    /// Every capability name this build knows, by number (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40).
    public static let names = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ]

    /// Docker's default set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID,
    /// SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP.
    public static let dockerDefault = Capabilities(mask: [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]
        .reduce(0) { $0 | (1 << $1) })

    /// Every capability this build knows (`--privileged`, `--cap-add ALL`).
    public static let all = Capabilities(mask: (1 << UInt64(names.count)) - 1)

    /// The number of a capability name, with or without the `CAP_` prefix, any case.
    public static func number(of name: String) -> Int? {
        var upper = name.uppercased()
        if upper.hasPrefix("CAP_") { upper.removeFirst(4) }
        return names.firstIndex(of: upper)
    }

    /// Docker's rule for `--cap-add`/`--cap-drop` over `base`: drops first, then adds;
    /// `ALL` in either list means every capability. Unknown names are an error naming them.
    public static func resolve(base: Capabilities, add: [String], drop: [String]) throws(SwiftletError) -> Capabilities {
        func maskOf(_ list: [String]) throws(SwiftletError) -> UInt64 {
            var mask: UInt64 = 0
            for name in list {
                if name.uppercased() == "ALL" { return all.mask }
                guard let number = number(of: name) else { throw SwiftletError("unknown capability: \"\(name)\"", code: .invalidArgument) }
                mask |= 1 << UInt64(number)
            }
            return mask
        }
        return Capabilities(mask: (base.mask & ~(try maskOf(drop))) | (try maskOf(add)))
    }

    /// The names in the set, `CAP_` prefixed, as seccomp profiles and `inspect` spell them.
    public var prefixedNames: [String] {
        Self.names.indices.filter { mask & (1 << UInt64($0)) != 0 }.map { "CAP_" + Self.names[$0] }
    }

    public func contains(_ name: String) -> Bool {
        guard let number = Self.number(of: name) else { return false }
        return mask & (1 << UInt64(number)) != 0
    }
}
