import AgentProtocol
import CLinux
import CSeccomp
import Foundation
@testable import Runtime
import Testing

/// Docker-format seccomp profiles compiled with libseccomp: each filter runs in a forked
/// child (`sl_seccomp_probe`) that makes one system call with arguments that fail once past
/// the filter (bad pointers, bad fds), so "refused by the filter" (its errno) is told apart
/// from "allowed" without the call doing anything.
@Suite struct SeccompTests {
    /// The errno the call got under `filter` (0: it succeeded).
    static func errnoOf(_ filter: SeccompFilter, _ name: String, _ arguments: [Int] = []) throws -> Int32 {
        let number = seccomp_syscall_resolve_name(name)
        #expect(number >= 0, "unknown system call \(name)")
        var result: Int32 = -1
        var signal: Int32 = 0
        let padded = arguments + Array(repeating: 0, count: 6 - arguments.count)
        let status = filter.program.withUnsafeBytes { program in
            sl_seccomp_probe(program.baseAddress, UInt16(filter.instructionCount), Int(number), padded, &result, &signal)
        }
        #expect(status == 0 && signal == 0, "probe of \(name) failed (signal \(signal), errno \(errno))")
        return result
    }

    static let defaultFilter = Result { try SeccompProfile.dockerDefault.withoutBlockDeviceNodes.compile(capabilities: .dockerDefault) }

    @Test func dockerDefaultProfileDecodes() throws {
        let profile = SeccompProfile.dockerDefault
        #expect(profile.defaultAction == "SCMP_ACT_ERRNO")
        #expect((profile.syscalls ?? []).count > 30)
        #expect((profile.syscalls ?? []).contains { $0.names?.contains("clone3") == true && $0.errnoRet == UInt32(ENOSYS) })
    }

    @Test func defaultFilterAllowsOrdinaryCallsAndRefusesEscapes() throws {
        let filter = try Self.defaultFilter.get()
        #expect(filter.instructionCount > 100 && filter.instructionCount < 4096)
        #expect(try Self.errnoOf(filter, "getpid") == 0)
        #expect(try Self.errnoOf(filter, "close", [-1]) == EBADF)
        #expect(try Self.errnoOf(filter, "ptrace", [2 /* PTRACE_PEEKDATA */, 0]) == ESRCH)
        let newUser = 0x1000_0000, newMount = 0x0002_0000
        for (call, arguments) in [("keyctl", [0, -3]), ("add_key", [0]), ("mount", [0, 0]), ("umount2", [0]),
                                  ("unshare", [newUser]), ("open_by_handle_at", [-1, 0]),
                                  ("init_module", [0]), ("finit_module", [-1]), ("kexec_load", [0]), ("bpf", [0]),
                                  ("perf_event_open", [0]), ("swapon", [0]), ("reboot", [0]), ("pivot_root", [0, 0]),
                                  ("clone", [newMount]), ("clone", [newUser])] {
            #expect(try Self.errnoOf(filter, call, arguments) == EPERM, "\(call) is not refused")
        }
        #expect(try Self.errnoOf(filter, "clone3", [0, 0]) == ENOSYS)
        // Block device nodes are refused; other nodes reach the kernel (a bad path pointer).
        #expect(try Self.errnoOf(filter, "mknod", [0, Int(S_IFBLK | 0o600), 0]) == EPERM)
        #expect(try Self.errnoOf(filter, "mknodat", [-100 /* AT_FDCWD */, 0, Int(S_IFBLK | 0o600), 0]) == EPERM)
        #expect(try Self.errnoOf(filter, "mknod", [0, Int(S_IFIFO | 0o600), 0]) == EFAULT)
        #expect(try Self.errnoOf(filter, "mknodat", [-100 /* AT_FDCWD */, 0, Int(S_IFCHR | 0o600), 0]) == EFAULT)
    }

    @Test func capabilityConditionalRulesFollowTheCapabilities() throws {
        let admin = try Capabilities.resolve(base: .dockerDefault, add: ["SYS_ADMIN"], drop: [])
        let filter = try SeccompProfile.dockerDefault.compile(capabilities: admin)
        #expect(try Self.errnoOf(filter, "mount", [0, 0]) == EFAULT)
        #expect(try Self.errnoOf(filter, "clone3", [0, 0]) != ENOSYS)
        #expect(try Self.errnoOf(filter, "keyctl", [0, -3]) == EPERM, "keyctl stays refused")
        // settimeofday(NULL, NULL) changes nothing: allowed, it returns 0.
        #expect(try Self.errnoOf(try Self.defaultFilter.get(), "settimeofday", [0, 0]) == EPERM)
        let time = try SeccompProfile.dockerDefault.compile(capabilities: Capabilities(mask: 1 << 25))
        #expect(try Self.errnoOf(time, "settimeofday", [0, 0]) == 0)
    }

    @Test func userProfileInDockersFormat() throws {
        let json = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},"#
            + #"{"names":["close"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1000,"op":"SCMP_CMP_GE"}]}]}"#
        let filter = try SeccompProfile(json: Array(json.utf8), source: "test").compile(capabilities: .dockerDefault)
        #expect(try Self.errnoOf(filter, "getppid") == EACCES)
        #expect(try Self.errnoOf(filter, "close", [5000]) == EPERM)
        #expect(try Self.errnoOf(filter, "close", [-1]) == EPERM, "-1 is above 1000 as an unsigned argument")
        #expect(try Self.errnoOf(filter, "close", [999]) == EBADF)
    }

    @Test func malformedProfilesAreClearErrors() {
        let cases = [
            ("{", "is not valid"),
            (#"{"syscalls":[]}"#, "missing defaultAction"),
            (#"{"defaultAction":"SCMP_ACT_NOPE"}"#, "unknown seccomp action"),
            (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#, "argument index 7"),
            (#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_LIKE"}]}]}"#, "unknown seccomp argument operator"),
        ]
        for (json, message) in cases {
            #expect(performing: { try SeccompProfile(json: Array(json.utf8), source: "p.json") }, throws: { error in
                "\(error)".contains(message) && "\(error)".contains("p.json") || message.hasPrefix("unknown") && "\(error)".contains(message)
            })
        }
    }

    @Test func kernelVersionsCompareAsNumbers() {
        #expect(SeccompCompiler.version("6.1.0-57-cloud-amd64") == (6, 1))
        #expect(SeccompCompiler.version("4.10") > SeccompCompiler.version("4.8"))
    }
}
