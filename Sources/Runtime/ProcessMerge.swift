import HostSystem
import AgentProtocol
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
        guard !args.isEmpty else { throw SwiftletError("no command specified") }

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
            throw SwiftletError("the working directory '\(cwd)' is invalid, it needs to be an absolute path")
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
