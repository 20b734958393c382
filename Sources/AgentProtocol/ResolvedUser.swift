import HostSystem
/// A user resolved against the container's /etc/passwd and /etc/group (runc's
/// user.GetExecUser rules: numeric ids need no entry; an unknown uid gets gid 0 and home /).
/// Shared by the namespace backend (Runtime) and the guest agent (swiftlet-init).
public struct ResolvedUser: Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]
    public var home: String

    public init(uid: UInt32, gid: UInt32, groups: [UInt32], home: String) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home
    }

    /// Resolves `spec` (`user[:group]`) using the passwd and group file contents.
    public static func resolve(_ spec: String, passwd: String, group: String) throws(SwiftletError) -> ResolvedUser {
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
            throw SwiftletError("unable to find user \(userPart): no matching entries in passwd file", code: .cannotExecute)
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let entry = groupEntries.first(where: { $0.count >= 3 && ($0[0] == groupPart || $0[2] == groupPart) }) {
                result.gid = UInt32(entry[2]) ?? 0
            } else if let gid = UInt32(groupPart) {
                result.gid = gid
            } else {
                throw SwiftletError("unable to find group \(groupPart): no matching entries in group file", code: .cannotExecute)
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
