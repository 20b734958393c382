import AgentProtocol
import Foundation

/// A container's `SecurityOptions` made concrete at start: the capability set, the
/// compiled seccomp filter and the file system confinement, which the namespace child
/// (nsexec.c) applies and the guest agent receives for a microVM container.
struct ContainerConfinement {
    let process: ProcessConfinement
    let root: RootConfinement
    let privileged: Bool

    init(_ security: SecurityOptions) throws {
        let capabilities = security.privileged ? .all : try security.adjustedCapabilities()
        var filter: [UInt8] = []
        if !security.privileged {
            switch security.seccomp {
            case .unconfined:
                break
            case .dockerDefault:
                // The marker keeps this filter apart from one of the same text given as a file.
                let key = PackageResources.docker_default_json + Array("\nwithout block device nodes".utf8)
                filter = try SeccompCache.filter(profile: key, capabilities: capabilities) {
                    try SeccompProfile.dockerDefault.withoutBlockDeviceNodes.compile(capabilities: capabilities)
                }.program
            case .profile(let text):
                filter = try SeccompCache.filter(profile: Array(text.utf8), capabilities: capabilities) {
                    try SeccompProfile(json: Array(text.utf8), source: "the container's seccomp profile")
                        .compile(capabilities: capabilities)
                }.program
            }
        }
        process = ProcessConfinement(capabilities: capabilities.mask, noNewPrivileges: security.noNewPrivileges,
                                     seccompFilter: filter)
        root = .docker(privileged: security.privileged, readOnlyRootfs: security.readOnlyRootfs)
        privileged = security.privileged
    }

    /// The host's device nodes under /dev for a privileged container (pseudo-terminals,
    /// shared memory and message queues excluded: the container has its own).
    static func hostDevices() -> [(path: String, mode: mode_t, rdev: dev_t)] {
        var devices: [(path: String, mode: mode_t, rdev: dev_t)] = []
        guard let walker = FileManager.default.enumerator(atPath: "/dev") else { return [] }
        while let relative = walker.nextObject() as? String {
            if ["pts", "shm", "mqueue"].contains(where: { relative == $0 || relative.hasPrefix($0 + "/") }) { continue }
            var info = stat()
            let path = "/dev/" + relative
            guard lstat(path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            if type == S_IFCHR || type == S_IFBLK { devices.append((path, info.st_mode, info.st_rdev)) }
        }
        return devices
    }
}
