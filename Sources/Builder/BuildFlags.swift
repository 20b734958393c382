import HostSystem
import Units

/// An instruction's `--name=value` flags checked against the ones it takes (buildkit's
/// `BFlags`; Dockerfile reference: the flags of FROM, COPY, ADD and HEALTHCHECK).
struct BuildFlags {
    private var values: [String: String] = [:]

    /// `flags` read for an instruction taking the string flags `accepted`; unknown, repeated
    /// and value-less flags are errors, with Docker's messages.
    init(_ flags: [String], accepted: Set<String>) throws {
        for flag in flags {
            guard flag.hasPrefix("--") else {
                throw SwiftletError("arg should start with -- : \(flag)", code: .invalidArgument)
            }
            let body = flag.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            guard accepted.contains(name) else {
                if ["mount", "network", "security"].contains(name) {
                    throw SwiftletError("the --\(name) option requires BuildKit, which Swiftlet's builder does not implement", code: .notImplemented)
                }
                throw SwiftletError("unknown flag: \(name)", code: .invalidArgument)
            }
            guard body.count > name.count else {
                throw SwiftletError("missing a value on flag: \(name)", code: .invalidArgument)
            }
            guard values[name] == nil else {
                throw SwiftletError("duplicate flag specified: \(name)", code: .invalidArgument)
            }
            values[name] = String(body.dropFirst(name.count + 1))
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// A duration flag of HEALTHCHECK in nanoseconds: 0 when absent or zero, at least 1ms otherwise.
    func interval(_ name: String) throws -> Int64 {
        guard let text = values[name], !text.isEmpty else { return 0 }
        let duration: Int64
        do {
            let parsed = try DurationValue.parse(text)
            duration = parsed.components.seconds * 1_000_000_000 + parsed.components.attoseconds / 1_000_000_000
        } catch {
            throw SwiftletError(error.description, code: .invalidArgument)
        }
        guard duration == 0 || duration >= 1_000_000 else {
            throw SwiftletError("Interval \(GoFormat.quote(name)) cannot be less than 1ms", code: .invalidArgument)
        }
        return duration
    }
}
