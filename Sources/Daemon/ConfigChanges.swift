import HostSystem
import Images

/// `changes` of `/commit` and an import.
struct ConfigChanges {
    init(_ lines: [String]) throws {
        guard lines.isEmpty else { throw SwiftletError("changes are not wired yet", code: .unavailable) }
    }

    func apply(_ config: inout ImageConfig.Runtime) throws {}
}
