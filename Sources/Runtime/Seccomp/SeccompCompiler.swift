import HostSystem
import AgentProtocol
import CLinux
import CSeccomp
import Foundation

/// A profile action as the kernel's seccomp return value (linux/seccomp.h SECCOMP_RET_*,
/// which libseccomp's SCMP_ACT_* macros spell; the macros do not import into Swift).
struct SeccompAction: Equatable {
    let value: UInt32

    init(_ name: String, errno: UInt32?) throws(SwiftletError) {
        switch name {
        case "SCMP_ACT_ALLOW": value = 0x7fff_0000
        case "SCMP_ACT_ERRNO": value = 0x0005_0000 | ((errno ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": value = 0
        case "SCMP_ACT_KILL_PROCESS": value = 0x8000_0000
        case "SCMP_ACT_TRAP": value = 0x0003_0000
        case "SCMP_ACT_TRACE": value = 0x7ff0_0000 | ((errno ?? 0) & 0xffff)
        case "SCMP_ACT_LOG": value = 0x7ffc_0000
        case "SCMP_ACT_NOTIFY": throw SwiftletError("seccomp action SCMP_ACT_NOTIFY is not supported (no listener)")
        default: throw SwiftletError("unknown seccomp action \"\(name)\"", code: .invalidArgument)
        }
    }
}

/// Turns a `SeccompProfile` into BPF with libseccomp, for one capability set and kernel:
/// Docker's rules for which rules apply (every `includes` condition met, no `excludes`
/// one), the native architecture plus the profile's sub-architectures, system call names
/// libseccomp does not know skipped (as runc does), several conditions on one argument
/// added as separate rules (libseccomp requires it; they then mean "any of").
struct SeccompCompiler {
    let profile: SeccompProfile
    let capabilities: Capabilities
    let kernel: (major: Int, minor: Int)

    /// Docker's name for this machine's architecture in `arches` conditions.
    static let nativeArchitecture = "amd64"
    static let nativeToken = "SCMP_ARCH_X86_64"

    static func version(_ text: String) -> (major: Int, minor: Int) {
        let parts = text.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }

    static func comparison(_ op: String) throws(SwiftletError) -> scmp_compare {
        switch op {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": return SCMP_CMP_MASKED_EQ
        default: throw SwiftletError("unknown seccomp argument operator \"\(op)\"", code: .invalidArgument)
        }
    }

    func applies(_ rule: SeccompProfile.Rule) -> Bool {
        if let includes = rule.includes {
            if let arches = includes.arches, !arches.isEmpty, !arches.contains(Self.nativeArchitecture) { return false }
            if let caps = includes.caps, !caps.allSatisfy(capabilities.contains) { return false }
            if let minimum = includes.minKernel.map(Self.version), kernel < minimum { return false }
        }
        if let excludes = rule.excludes {
            if let arches = excludes.arches, arches.contains(Self.nativeArchitecture) { return false }
            if let caps = excludes.caps, caps.contains(where: capabilities.contains) { return false }
            if let minimum = excludes.minKernel.map(Self.version), kernel >= minimum { return false }
        }
        return true
    }

    /// The architectures besides the native one: `architectures`, or the `archMap` entry
    /// of the native architecture's sub-architectures.
    var extraArchitectures: [String] {
        let listed = profile.architectures
            ?? (profile.archMap ?? []).filter { $0.architecture == Self.nativeToken }.flatMap { $0.subArchitectures ?? [] }
        return listed.filter { $0 != Self.nativeToken }
    }

    func compile() throws(SwiftletError) -> SeccompFilter {
        let defaultAction = try SeccompAction(profile.defaultAction, errno: profile.defaultErrnoRet)
        guard let context = seccomp_init(defaultAction.value) else { throw SwiftletError("seccomp_init failed") }
        defer { seccomp_release(context) }
        // The BPF is installed by the container child, not by libseccomp: no no_new_privs here.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)
        for token in extraArchitectures {
            let name = token.hasPrefix("SCMP_ARCH_") ? String(token.dropFirst(10)).lowercased() : token.lowercased()
            let arch = seccomp_arch_resolve_name(name)
            guard arch != 0 else { throw SwiftletError("unknown seccomp architecture \"\(token)\"", code: .invalidArgument) }
            let result = seccomp_arch_add(context, arch)
            guard result == 0 || result == -EEXIST else {
                throw SwiftletError("seccomp_arch_add \(token)", errno: -result)
            }
        }
        for rule in profile.syscalls ?? [] where applies(rule) {
            let action = try SeccompAction(rule.action, errno: rule.errnoRet ?? profile.defaultErrnoRet)
            if action == defaultAction { continue }
            for name in (rule.names ?? []) + (rule.name.map { [$0] } ?? []) {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                for conditions in try conditionSets(rule.args ?? []) {
                    let result = conditions.withUnsafeBufferPointer { buffer in
                        seccomp_rule_add_array(context, action.value, number, UInt32(buffer.count), buffer.baseAddress)
                    }
                    guard result == 0 else { throw SwiftletError("seccomp rule for \(name)", errno: -result) }
                }
            }
        }
        return SeccompFilter(program: try export(context))
    }

    /// The rule's conditions as libseccomp rules: all in one when each argument index
    /// appears once, else one rule per condition.
    private func conditionSets(_ arguments: [SeccompProfile.Argument]) throws(SwiftletError) -> [[scmp_arg_cmp]] {
        var conditions: [scmp_arg_cmp] = []
        for argument in arguments {
            conditions.append(scmp_arg_cmp(arg: argument.index, op: try Self.comparison(argument.op),
                                           datum_a: argument.value, datum_b: argument.valueTwo ?? 0))
        }
        let indexes = Set(arguments.map(\.index))
        return indexes.count == arguments.count ? [conditions] : conditions.map { [$0] }
    }

    /// The filter's BPF, through an anonymous memory file.
    private func export(_ context: scmp_filter_ctx) throws(SwiftletError) -> [UInt8] {
        let fd = sl_memfd("seccomp-bpf")
        guard fd >= 0 else { throw SwiftletError("memfd_create", errno: errno) }
        defer { close(fd) }
        let result = seccomp_export_bpf(context, fd)
        guard result == 0 else { throw SwiftletError("seccomp_export_bpf", errno: -result) }
        let size = Int(lseek(fd, 0, Int32(SEEK_END)))
        var program = [UInt8](repeating: 0, count: max(size, 0))
        let read = program.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard read == size, size % 8 == 0 else { throw SwiftletError("reading the exported seccomp filter failed") }
        return program
    }
}
