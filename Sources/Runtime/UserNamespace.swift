import HostSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `--userns`, podman's option: `host` (the default, as Docker's: container root is host
/// root) or `auto[:size=N]` (a user namespace of its own whose ids 0..<N are an unused
/// block of the host's subordinate ids; N defaults to 65536).
public enum UserNamespaceMode: Codable, Equatable, Sendable {
    case host
    case auto(size: UInt32)

    public static let defaultSize: UInt32 = 65536

    /// Parses `host`, `auto` or `auto:size=N` (1 ≤ N ≤ 2³¹).
    public init(parsing text: String) throws(SwiftletError) {
        let usage = "invalid --userns: \"\(text)\" (supported: host, auto, auto:size=N)"
        if text == "host" || text.isEmpty {
            self = .host
            return
        }
        var size = Self.defaultSize
        if text == "auto" {
            self = .auto(size: size)
            return
        }
        guard text.hasPrefix("auto:") else { throw SwiftletError(usage) }
        for option in text.dropFirst(5).split(separator: ",", omittingEmptySubsequences: false) {
            guard option.hasPrefix("size="), let value = UInt32(option.dropFirst(5)), value > 0, value <= 1 << 31 else {
                throw SwiftletError(usage)
            }
            size = value
        }
        self = .auto(size: size)
    }
}

/// A container's user namespace (user_namespaces(7)): its ids 0..<size are the host's
/// `hostUID`… and `hostGID`…, written as "0 host size" to its uid_map and gid_map.
public struct IDMapping: Codable, Equatable, Sendable {
    public var hostUID: UInt32
    public var hostGID: UInt32
    public var size: UInt32

    var uidMap: String { "0 \(hostUID) \(size)\n" }
    var gidMap: String { "0 \(hostGID) \(size)\n" }

    /// The host ids of container ids `uid`/`gid` (nil outside the mapping).
    func hostIDs(uid: UInt32, gid: UInt32) -> (uid: UInt32, gid: UInt32)? {
        uid < size && gid < size ? (hostUID + uid, hostGID + gid) : nil
    }

    /// Picks, for a container needing `size` ids, the lowest block of each of the
    /// subordinate uid and gid ranges that no mapping in `taken` overlaps.
    static func allocate(size: UInt32, uidRanges: [Range<UInt64>], gidRanges: [Range<UInt64>],
                         taken: [IDMapping]) throws(SwiftletError) -> IDMapping {
        let uid = try firstFree(size, in: uidRanges, taken: taken.map { UInt64($0.hostUID)..<UInt64($0.hostUID) + UInt64($0.size) })
        let gid = try firstFree(size, in: gidRanges, taken: taken.map { UInt64($0.hostGID)..<UInt64($0.hostGID) + UInt64($0.size) })
        return IDMapping(hostUID: UInt32(uid), hostGID: UInt32(gid), size: size)
    }

    private static func firstFree(_ size: UInt32, in ranges: [Range<UInt64>], taken: [Range<UInt64>]) throws(SwiftletError) -> UInt64 {
        for range in ranges {
            var start = range.lowerBound
            while start + UInt64(size) <= range.upperBound {
                let block = start..<start + UInt64(size)
                guard let blocker = taken.filter({ $0.overlaps(block) }).max(by: { $0.upperBound < $1.upperBound }) else {
                    return start
                }
                start = blocker.upperBound
            }
        }
        throw SwiftletError("--userns=auto: no free block of \(size) subordinate ids left for user \"\(SubordinateIDs.user)\" (in use by other containers, or none configured)")
    }
}

/// The host's subordinate id ranges (subuid(5), subgid(5)) of the user `containers`, the
/// owner podman's `--userns=auto` uses; scripts/setup adds podman's recommended entry.
enum SubordinateIDs {
    static let user = "containers"

    /// The ranges `user` owns in a subuid/subgid file's text (`name:start:count` lines; a
    /// line naming the user by uid counts too).
    static func ranges(in text: String, user: String = user, uid: UInt32? = nil) -> [Range<UInt64>] {
        text.split(whereSeparator: \.isNewline).compactMap { line -> Range<UInt64>? in
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == user || (uid != nil && fields[0] == "\(uid!)"),
                  let start = UInt64(fields[1]), let count = UInt64(fields[2]), count > 0,
                  start + count <= UInt64(UInt32.max) else { return nil }
            return start..<start + count
        }
    }

    /// The ranges configured in `path`, or a one-line error naming what to add.
    static func ranges(file path: String) throws(SwiftletError) -> [Range<UInt64>] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let uid = getpwnam(user).map { $0.pointee.pw_uid }
        let found = ranges(in: text, uid: uid)
        guard !found.isEmpty else {
            throw SwiftletError("--userns=auto: \(path) has no range for user \"\(user)\" (add a line such as \"\(user):2147483647:2147483648\")")
        }
        return found
    }
}
