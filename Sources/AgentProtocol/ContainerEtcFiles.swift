import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// The /etc/hosts and /etc/hostname a container gets, as Docker writes them (moby
/// libnetwork etchosts: localhost and the IPv6 names, then the container's own address
/// and hostname): both backends write them into the container's writable layer before
/// its process starts (namespace: the overlay's upper dir on the host; microVM: the agent
/// inside the guest).
public enum ContainerEtcFiles {
    /// The files `write(into:hostname:address:)` writes in /etc.
    public static let names = ["hosts", "hostname"]

    /// /etc/hosts for `hostname` at `address` (nil without a network but loopback:
    /// Docker's `--network none` file has no line for the container).
    public static func hosts(hostname: String, address: String?) -> String {
        var text = """
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            ff00::0\tip6-mcastprefix
            ff02::1\tip6-allnodes
            ff02::2\tip6-allrouters

            """
        if let address, !hostname.isEmpty { text += "\(address)\t\(hostname)\n" }
        return text
    }

    /// /etc/hostname: the hostname and a newline.
    public static func hostname(_ hostname: String) -> String { "\(hostname)\n" }

    /// Writes `hosts` and `hostname` into the directory `etc`, mode 0644, each replacing
    /// what was there: an old file or link is unlinked and a new file created exclusively
    /// (O_EXCL | O_NOFOLLOW), so a link the container left is never followed. Throws the
    /// call that failed with its errno.
    public static func write(into etc: String, hostname: String, address: String?) throws(SwiftletError) {
        let files = zip(names, [hosts(hostname: hostname, address: address), Self.hostname(hostname)])
        for (name, text) in files { try replaceFile("\(etc)/\(name)", with: text) }
    }

    /// Replaces the file at `path` with `text`, mode 0644: an old file or link is
    /// unlinked and a new file created exclusively (O_EXCL | O_NOFOLLOW), so a link the
    /// container left is never followed.
    public static func replaceFile(_ path: String, with text: String) throws(SwiftletError) {
        if unlink(path) < 0 && errno != ENOENT { throw SwiftletError("unlink \(path)", errno: errno) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SwiftletError("create \(path)", errno: errno) }
        defer { close(fd) }
        guard fchmod(fd, 0o644) == 0 else { throw SwiftletError("chmod \(path)", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SwiftletError("write \(path)", errno: written < 0 ? errno : EIO) }
    }
}
