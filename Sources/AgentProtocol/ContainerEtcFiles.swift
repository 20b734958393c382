/// The /etc/hosts and /etc/hostname a container gets, as Docker writes them (moby
/// libnetwork etchosts: localhost and the IPv6 names, then the container's own address
/// and hostname): both backends write them into the container's writable layer before
/// its process starts (namespace: the overlay's upper dir on the host; microVM: the agent
/// inside the guest).
public enum ContainerEtcFiles {
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
}
