import HostSystem
import CLinux
import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The image's flattened tree as the root of a user namespace (`--userns=auto`) must see
/// it, owners shifted into its mapping: an idmapped mount of the shared tree
/// (mount_setattr(2) MOUNT_ATTR_IDMAP, attached by the container's child before its
/// overlay) where the kernel and file system allow, otherwise a copy with shifted owners
/// kept in the container's bundle (made at its first start, reused by later ones, removed
/// with the container).
struct ImageTreeView {
    /// The overlay's lowerdir: the bundle's `lower` mount point, or the shifted copy.
    let lowerDirectory: String
    /// The detached idmapped tree the child moves onto `lowerDirectory`; nil for the copy.
    let treeFD: Int32?

    /// Set to 1 (tests only), skips the idmapped mount so the copy is used.
    static let noIdmapVariable = "SWIFTLET_USERNS_NO_IDMAP"

    init(_ tree: String, mapping: IDMapping, bundle: ContainerBundle) throws {
        if ProcessInfo.processInfo.environment[Self.noIdmapVariable] != "1" {
            var step: UnsafePointer<CChar>?
            let fd = sl_idmapped_tree(tree, mapping.uidMap, mapping.gidMap, &step)
            if fd >= 0 {
                lowerDirectory = bundle.path("lower")
                treeFD = fd
                return
            }
            let error = errno
            guard [EINVAL, ENOSYS, EPERM, EOPNOTSUPP].contains(error) else {
                throw SwiftletError("cannot map the image's tree for the user namespace: \(step.map { String(cString: $0) } ?? "")",
                                   errno: error)
            }
        }
        lowerDirectory = try Self.shiftedCopy(of: tree, mapping: mapping, bundle: bundle)
        treeFD = nil
    }

    /// Closes the idmapped tree's fd (the child holds its own copy until it has attached it).
    func close() {
        if let treeFD { Glibc.close(treeFD) }
    }

    /// `lower-shifted` in the bundle: a copy of `tree` (cp -a) whose owners are shifted by
    /// the mapping, renamed into place once complete.
    private static func shiftedCopy(of tree: String, mapping: IDMapping, bundle: ContainerBundle) throws -> String {
        let copy = bundle.path("lower-shifted")
        if access(copy, F_OK) == 0 { return copy }
        let partial = bundle.path("lower-shifted.partial")
        try? FileManager.default.removeItem(atPath: partial)
        let result = try ChildProcess.run(["cp", "-a", "--reflink=auto", tree, partial])
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: partial)
            throw SwiftletError("cannot copy the image's tree for the user namespace: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard sl_shift_tree_owners(partial, mapping.hostUID, mapping.hostGID, mapping.size) == 0 else {
            let error = errno
            try? FileManager.default.removeItem(atPath: partial)
            throw SwiftletError("cannot shift the owners of \(partial)", errno: error)
        }
        try sys("rename \(partial)") { rename(partial, copy) }
        return copy
    }
}

extension IDMapping {
    /// Writes the container child's uid_map and gid_map (it waits for them before setup).
    func write(toProcess pid: pid_t) throws {
        var step: UnsafePointer<CChar>?
        guard sl_write_id_maps(pid, uidMap, gidMap, &step) == 0 else {
            throw SwiftletError("cannot map the user namespace of \(pid): \(step.map { String(cString: $0) } ?? "")", errno: errno)
        }
    }
}
