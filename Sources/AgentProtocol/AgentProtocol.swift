/// Constants of the host↔guest agent protocol: the guest agent `swiftlet-init`
/// listens on a virtio-vsock stream port (virtio 1.2 §5.10), the host reaches it through
/// the VMM's Firecracker-style Unix socket (`VsockUnixConnector`). Every message is a
/// length-prefixed frame (`AgentMessage.encode()`, `AgentFrameDecoder`).
public enum AgentProtocol {
    /// The protocol version carried by `hello`; a peer with another version is refused.
    /// Version 2 added the network interface to `run`; version 3 the confinement (root:
    /// masked/read-only paths, tmpfs, sysctls; process: capabilities, no_new_privs, seccomp);
    /// version 4 the container's /etc/resolv.conf with the interface.
    public static let version: UInt16 = 4
    /// The vsock port the guest agent listens on (any CID).
    public static let agentPort: UInt32 = 1024
    /// The largest frame body (kind byte + payload); a larger length is a protocol error.
    public static let maxBodyLength = 1 << 20
    /// The largest stdio chunk a sender puts in one `stdin`/`stdout`/`stderr` frame, so
    /// the frame stays well under `maxBodyLength`.
    public static let maxChunk = 64 << 10
}

