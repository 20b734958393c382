import HostSystem
import AgentProtocol
import CLinux
import Glibc

/// The microVM's network as the container sees it (the VM is the container's network
/// namespace): loopback up, and with `--network bridge` the virtio-net interface (eth0,
/// the host's TAP on its bridge) with the container's address and a default route
/// through the bridge (`sl_configure_interface`, netdevice(7) ioctls).
enum GuestNetwork {
    /// How long to wait for the interface to appear after its driver was loaded.
    static let interfaceWaitMilliseconds = 2000

    static func configure(_ interface: InterfaceSetup?) throws(SwiftletError) {
        try bringUp("lo", address: 0, prefix: 0, gateway: 0)
        guard let interface else { return }
        let address = try parse(interface.address, "address")
        let gateway = try parse(interface.gateway, "gateway")
        var waited = 0
        while if_nametoindex(interface.name) == 0 {
            guard waited < interfaceWaitMilliseconds else {
                throw SwiftletError("network interface \(interface.name) not found: is virtio_net in the initramfs?")
            }
            sleepMilliseconds(10)
            waited += 10
        }
        try bringUp(interface.name, address: address, prefix: UInt32(interface.prefix), gateway: gateway)
    }

    /// Writes the container's /etc/hosts, /etc/hostname (`ContainerEtcFiles`) and the
    /// resolv.conf the host made (when it sent one) under
    /// `root`, replacing the image's (a link there is replaced, not followed). Nothing is
    /// written when the container's /etc is not a directory (a link would resolve in the
    /// agent's root).
    static func writeEtcFiles(root: String, hostname: String, interface: InterfaceSetup?) throws(SwiftletError) {
        let etc = "\(root)/etc"
        var info = stat()
        if lstat(etc, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { return }
        } else {
            try sys("mkdir \(etc)") { mkdir(etc, 0o755) }
        }
        try ContainerEtcFiles.write(into: etc, hostname: hostname, address: interface?.address)
        if let resolvConf = interface?.resolvConf, !resolvConf.isEmpty {
            try ContainerEtcFiles.replaceFile("\(etc)/resolv.conf", with: resolvConf)
        }
    }

    /// A dotted-quad address in network byte order.
    static func parse(_ text: String, _ what: String) throws(SwiftletError) -> UInt32 {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { throw SwiftletError("invalid network \(what) '\(text)'", code: .invalidArgument) }
        return address.s_addr
    }

    private static func bringUp(_ name: String, address: UInt32, prefix: UInt32, gateway: UInt32) throws(SwiftletError) {
        var step: UnsafePointer<CChar>?
        guard sl_configure_interface(name, address, prefix, gateway, &step) == 0 else {
            let call = step.map { String(cString: $0) } ?? "configuring"
            throw SwiftletError("\(call) on \(name)", errno: errno)
        }
    }
}
