import HostSystem
import ArgumentParser
import Runtime

/// The `docker create`/`docker run` security flags: privileges, capabilities, seccomp,
/// no-new-privileges, a read-only root, tmpfs mounts, sysctls and the user namespace.
struct SecurityFlags: ParsableArguments {
    @Flag(help: "Give extended privileges: every capability, no seccomp filter, no masked paths, the host's devices.")
    var privileged = false
    @Option(name: .customLong("cap-add"), help: "Add a Linux capability (name or ALL).")
    var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop a Linux capability (name or ALL).")
    var capDrop: [String] = []
    @Option(name: .customLong("security-opt"), help: "Security option: seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges.")
    var securityOpt: [String] = []
    @Flag(name: .customLong("read-only"), help: "Mount the container's root file system read-only.")
    var readOnly = false
    @Option(help: "Mount a tmpfs: PATH[:OPTIONS] (e.g. /run:rw,size=64m).")
    var tmpfs: [String] = []
    @Option(help: "Set a namespaced kernel parameter: KEY=VALUE (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*).")
    var sysctl: [String] = []
    @Option(help: "User namespace: host (default) or auto[:size=N] (container root is an unprivileged block of the host's subordinate ids; namespace isolation).")
    var userns: String?

    func options() throws -> SecurityOptions {
        var security = SecurityOptions()
        security.privileged = privileged
        security.capAdd = capAdd
        security.capDrop = capDrop
        for option in securityOpt { try security.apply(securityOpt: option) }
        security.readOnlyRootfs = readOnly
        security.tmpfs = try tmpfs.map { text throws(SwiftletError) in try TmpfsMount(parsing: text) }
        security.sysctls = try sysctl.map { text throws(SwiftletError) in try Sysctl(parsing: text) }
        security.userNamespace = try userns.map { text throws(SwiftletError) in try UserNamespaceMode(parsing: text) }
        return security
    }
}
