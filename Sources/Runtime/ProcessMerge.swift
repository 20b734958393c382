import Foundation
import Images

/// Docker's rules for combining an image config with `docker run` overrides
/// (Docker Engine API ContainerCreate; image-spec config.md `config`):
/// - `--entrypoint` replaces the image Entrypoint and drops the image Cmd; CMD arguments
///   replace the image Cmd; the process is Entrypoint + Cmd.
/// - Env: the image's, then `--env-file` and `-e` entries override by key; `-e K` copies
///   the host's K (dropped if unset); PATH and HOSTNAME are added when missing.
/// - WorkingDir: `-w`, else the image's, else `/`; it must be absolute.
/// - User: `-u`, else the image's, else root.
/// - With `-t`, TERM=xterm unless set.
enum ProcessMerge {
    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func merge(_ options: CreateOptions, image: ImageConfig.Runtime?, hostname: String,
                      hostEnvironment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessSpec {
        var entrypoint = image?.Entrypoint ?? []
        var cmd = image?.Cmd ?? []
        if let override = options.entrypoint {
            entrypoint = override.isEmpty ? [] : [override]
            cmd = []
        }
        if !options.command.isEmpty { cmd = options.command }
        let args = entrypoint + cmd
        guard !args.isEmpty else { throw RuntimeError("no command specified") }

        var env = image?.Env ?? []
        for entry in options.env {
            if entry.contains("=") {
                set(entry, in: &env)
            } else if let value = hostEnvironment[entry] {
                set("\(entry)=\(value)", in: &env)
            }
        }
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert(defaultPath, at: 0) }
        if !env.contains(where: { $0.hasPrefix("HOSTNAME=") }) { env.insert("HOSTNAME=\(hostname)", at: 1) }
        if options.tty && !env.contains(where: { $0.hasPrefix("TERM=") }) { env.append("TERM=xterm") }

        var cwd = options.workingDir ?? image?.WorkingDir ?? "/"
        if cwd.isEmpty { cwd = "/" }
        guard cwd.hasPrefix("/") else {
            throw RuntimeError("the working directory '\(cwd)' is invalid, it needs to be an absolute path")
        }
        return ProcessSpec(args: args, env: env, cwd: cwd, user: options.user ?? image?.User ?? "")
    }

    /// Sets `KEY=VALUE` in `env`, replacing an entry with the same key.
    static func set(_ entry: String, in env: inout [String]) {
        let key = entry.prefix { $0 != "=" }
        if let index = env.firstIndex(where: { $0.prefix { $0 != "=" } == key }) {
            env[index] = entry
        } else {
            env.append(entry)
        }
    }
}

/// A user resolved against the container's /etc/passwd and /etc/group (runc's
/// user.GetExecUser rules: numeric ids need no entry; an unknown uid gets gid 0 and home /).
struct ResolvedUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    var groups: [UInt32]
    var home: String

    /// Resolves `spec` (`user[:group]`) using the passwd and group file contents.
    static func resolve(_ spec: String, passwd: String, group: String) throws -> ResolvedUser {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        let userPart = parts.first ?? ""
        let passwdEntries = entries(passwd)
        let groupEntries = entries(group)
        var result = ResolvedUser(uid: 0, gid: 0, groups: [], home: "/")
        var userName: String?
        if userPart.isEmpty {
            userName = "root"
            if let entry = passwdEntries.first(where: { $0[0] == "root" && $0.count >= 6 }) { result.home = entry[5] }
        } else if let entry = passwdEntries.first(where: { $0.count >= 6 && ($0[0] == userPart || $0[2] == userPart) }) {
            userName = entry[0]
            result.uid = UInt32(entry[2]) ?? 0
            result.gid = UInt32(entry[3]) ?? 0
            result.home = entry[5]
        } else if let uid = UInt32(userPart) {
            result.uid = uid
        } else {
            throw RuntimeError("unable to find user \(userPart): no matching entries in passwd file", code: 126)
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let entry = groupEntries.first(where: { $0.count >= 3 && ($0[0] == groupPart || $0[2] == groupPart) }) {
                result.gid = UInt32(entry[2]) ?? 0
            } else if let gid = UInt32(groupPart) {
                result.gid = gid
            } else {
                throw RuntimeError("unable to find group \(groupPart): no matching entries in group file", code: 126)
            }
        } else if let userName {
            result.groups = groupEntries.filter { entry in
                entry.count >= 4 && entry[3].split(separator: ",").contains { $0 == userName }
            }.compactMap { UInt32($0[2]) }
        }
        return result
    }

    private static func entries(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
