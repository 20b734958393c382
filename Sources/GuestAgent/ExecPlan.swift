import HostSystem
import AgentProtocol

/// What the forked child needs to start a `ProcessStart` in the container: argv, the
/// environment with HOME added from the user's passwd entry when missing (as Docker),
/// the working directory, the credentials resolved with runc's rules against the
/// container's /etc/passwd and /etc/group, and the process's confinement.
public struct ExecPlan: Equatable, Sendable {
    public var argv: [String]
    public var env: [String]
    public var cwd: String
    public var user: ResolvedUser
    public var confinement: ProcessConfinement

    /// The kernel's limit on a classic BPF program (BPF_MAXINSNS), 8 bytes an instruction.
    static let maximumFilterBytes = 4096 * 8

    /// `passwd` and `group` are the container's files (empty when missing).
    public init(_ process: ProcessStart, passwd: String, group: String) throws(SwiftletError) {
        guard let command = process.args.first, !command.isEmpty else {
            throw SwiftletError("no command specified")
        }
        guard process.cwd.hasPrefix("/") else {
            throw SwiftletError("the working directory '\(process.cwd)' is invalid, it needs to be an absolute path")
        }
        let filter = process.confinement.seccompFilter
        guard filter.count % 8 == 0, filter.count <= Self.maximumFilterBytes else {
            throw SwiftletError("invalid process spec: a seccomp filter of \(filter.count) bytes is not a BPF program", code: .invalidArgument)
        }
        for text in process.args + process.env + [process.cwd] where text.utf8.contains(0) {
            throw SwiftletError("invalid process spec: an argument, variable or directory contains a NUL byte", code: .invalidArgument)
        }
        user = try ResolvedUser.resolve(process.user, passwd: passwd, group: group)
        argv = process.args
        env = process.env
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=\(user.home)") }
        cwd = process.cwd
        confinement = process.confinement
    }
}
