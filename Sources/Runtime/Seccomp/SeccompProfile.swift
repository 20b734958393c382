import HostSystem
import AgentProtocol
import Foundation

/// A seccomp profile in Docker's JSON format (moby's `profiles/seccomp` types, the format
/// of `--security-opt seccomp=PROFILE.json`): a default action, the architectures, and
/// rules that name system calls, an action, argument conditions and the capabilities,
/// architectures and kernel versions they are for. `compile` turns it into a BPF filter.
public struct SeccompProfile: Codable, Equatable, Sendable {
    /// An `archMap` entry: a native architecture and the ones its processes may also use.
    public struct ArchitectureMap: Codable, Equatable, Sendable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    /// A condition on one system call argument (`SCMP_CMP_*`; `value` is the mask and
    /// `valueTwo` the value for `SCMP_CMP_MASKED_EQ`).
    public struct Argument: Codable, Equatable, Sendable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
    }

    /// When a rule applies: every listed capability held, the native architecture listed,
    /// the kernel at least `minKernel` (`includes`); or when none of that is so (`excludes`).
    public struct Condition: Codable, Equatable, Sendable {
        public var caps: [String]?
        public var arches: [String]?
        public var minKernel: String?
    }

    /// One rule: system calls, what to do with them, and when.
    public struct Rule: Codable, Equatable, Sendable {
        public var names: [String]?
        public var name: String?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Argument]?
        public var includes: Condition?
        public var excludes: Condition?
    }

    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var archMap: [ArchitectureMap]?
    public var syscalls: [Rule]?

    /// Docker's default profile: moby's `profiles/seccomp/default.json` as Docker ships it
    /// (an allow-list, EPERM for everything else, capability-conditional rules, clone
    /// without namespace flags, clone3 answered ENOSYS so libc falls back to clone).
    public static let dockerDefault: SeccompProfile = {
        // The embedded profile is part of this build; its decoding is checked by SeccompTests.
        (try? SeccompProfile(json: PackageResources.docker_default_json, source: "Docker's default profile"))
            ?? SeccompProfile(defaultAction: "SCMP_ACT_ERRNO")
    }()

    public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                archMap: [ArchitectureMap]? = nil, syscalls: [Rule]? = nil) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.syscalls = syscalls
    }

    /// Decodes a profile; `source` names it in errors (a file path).
    public init(json: [UInt8], source: String) throws(SwiftletError) {
        do {
            self = try JSONDecoder().decode(SeccompProfile.self, from: Data(json))
        } catch let error as DecodingError {
            throw SwiftletError("seccomp profile \(source) is not valid: \(Self.describe(error))")
        } catch {
            throw SwiftletError("seccomp profile \(source) is not valid: \(error)")
        }
        _ = try SeccompAction(defaultAction, errno: defaultErrnoRet)
        for rule in syscalls ?? [] {
            _ = try SeccompAction(rule.action, errno: rule.errnoRet ?? defaultErrnoRet)
            for argument in rule.args ?? [] {
                guard argument.index < 6 else {
                    throw SwiftletError("seccomp profile \(source): argument index \(argument.index) is not 0-5")
                }
                _ = try SeccompCompiler.comparison(argument.op)
            }
        }
    }

    /// The BPF filter for a container holding `capabilities`, on this host's kernel.
    public func compile(capabilities: Capabilities) throws(SwiftletError) -> SeccompFilter {
        try SeccompCompiler(profile: self, capabilities: capabilities, kernel: SeccompCompiler.version(SeccompCache.kernelRelease)).compile()
    }

    /// This profile with block device nodes refused: mknod/mknodat are allowed for every
    /// other file type only. A Swiftlet addition to Docker's default (Docker relies on its
    /// device cgroup, which on cgroup v2 needs a BPF program, and in a microVM does not
    /// exist), so that no container process can make a node for a disk.
    public var withoutBlockDeviceNodes: SeccompProfile {
        var profile = self
        let guarded = ["mknod": UInt32(1), "mknodat": UInt32(2)]
        profile.syscalls = (syscalls ?? []).map { rule in
            guard rule.action == "SCMP_ACT_ALLOW", rule.args?.isEmpty ?? true, rule.includes == nil || rule.includes == Condition()
            else { return rule }
            var rule = rule
            rule.names = rule.names?.filter { guarded[$0] == nil }
            return rule
        }
        let fileTypes: [UInt64] = [0, 0o100000, 0o020000, 0o010000, 0o140000]  // none, regular, char, FIFO, socket
        for (name, index) in guarded.sorted(by: { $0.key < $1.key }) {
            for type in fileTypes {
                profile.syscalls?.append(Rule(names: [name], action: "SCMP_ACT_ALLOW",
                                              args: [Argument(index: index, value: 0o170000, valueTwo: type, op: "SCMP_CMP_MASKED_EQ")]))
            }
        }
        return profile
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context): return context.debugDescription
        case .keyNotFound(let key, let context): return "missing \(([key] + context.codingPath.reversed()).map(\.stringValue).reversed().joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// A compiled filter: the classic BPF program (`struct sock_filter` array, 8 bytes an
/// instruction, native byte order) that the container child installs with seccomp(2).
public struct SeccompFilter: Codable, Equatable, Sendable {
    public var program: [UInt8]
    public var instructionCount: Int { program.count / 8 }
}
