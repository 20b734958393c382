import HostSystem
import Images

/// `--change` instructions of `commit` and `import`.
struct ConfigChanges {
    init(_ lines: [String]) throws {
        guard lines.isEmpty else { throw SwiftletError("--change is not wired yet", code: .unavailable) }
    }

    func apply(_ config: inout ImageConfig.Runtime) throws {}
}
