import HostSystem
import AgentProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Writes a namespace container's /etc/hosts, /etc/hostname (`ContainerEtcFiles`) and
/// /etc/resolv.conf (`ResolvConf`: the embedded DNS server's address as `resolver` on a
/// user-defined network) into
/// its overlay's upper dir before the overlay is mounted, so the container sees them over
/// the image's. The upper `etc` directory, when it has to be created, takes the image's
/// /etc owner and mode (overlayfs shows the upper dir's attributes). Nothing is written
/// where /etc is not a directory (in the image or as the container left it). In a user
/// namespace (`idMapping`) the directory and files get the mapped owners.
enum EtcFiles {
    /// Where the container's names and resolvers come from: its own network (its
    /// address under its hostname; the embedded DNS server as `resolver` on a user
    /// network, else the host's resolvers), or the host's stack (`--network host`: the
    /// host's /etc/hosts and /etc/resolv.conf as they are, as Docker copies them).
    enum Names {
        case own(address: IPv4Address?, resolver: IPv4Address?)
        case host
    }

    static func write(upper: String, lower: String, hostname: String, names: Names, idMapping: IDMapping? = nil) throws {
        let etc = "\(upper)/etc"
        var image = stat()
        if lstat("\(lower)/etc", &image) == 0, image.st_mode & S_IFMT != S_IFDIR {
            return  // an image whose /etc is not a directory keeps its own files
        }
        var upperEtc = stat()
        if lstat(etc, &upperEtc) == 0 {
            // The container replaced its /etc with a link (on the host it would resolve
            // outside the container) or removed it (a whiteout): nothing is written.
            guard upperEtc.st_mode & S_IFMT == S_IFDIR else { return }
        } else {
            try sys("mkdir \(etc)") { mkdir(etc, 0o755) }
            if image.st_mode != 0 {
                let owner = idMapping?.hostIDs(uid: image.st_uid, gid: image.st_gid) ?? (image.st_uid, image.st_gid)
                try sys("chown \(etc)") { chown(etc, owner.uid, owner.gid) }
                try sys("chmod \(etc)") { chmod(etc, image.st_mode & 0o7777) }
            }
        }
        do {
            switch names {
            case .own(let address, let resolver):
                try ContainerEtcFiles.write(into: etc, hostname: hostname, address: address?.description)
                try ContainerEtcFiles.replaceFile("\(etc)/resolv.conf", with: ResolvConf.forContainer(
                    host: ResolvConf.hostText(), resolver: resolver))
            case .host:
                try ContainerEtcFiles.replaceFile("\(etc)/hosts", with: (try? String(contentsOfFile: "/etc/hosts", encoding: .utf8)) ?? "")
                try ContainerEtcFiles.replaceFile("\(etc)/hostname", with: ContainerEtcFiles.hostname(hostname))
                try ContainerEtcFiles.replaceFile("\(etc)/resolv.conf", with: ResolvConf.hostText())
            }
        } catch {
            throw error.adding(context: "cannot write the container's /etc")
        }
        if let root = idMapping?.hostIDs(uid: 0, gid: 0) {
            for name in ContainerEtcFiles.names + ["resolv.conf"] {
                try sys("chown \(etc)/\(name)") { lchown("\(etc)/\(name)", root.uid, root.gid) }
            }
        }
    }
}
