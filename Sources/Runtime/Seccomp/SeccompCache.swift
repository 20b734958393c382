import AgentProtocol
import CSeccomp
import Foundation
import Images
import HostSystem

/// Compiled seccomp filters kept in `/run/swiftlet/seccomp` (tmpfs: they go with a reboot,
/// as the kernel they were compiled for may), named by the SHA-256 of the profile text, the
/// capability set, the kernel release, the libseccomp in use and the executable that
/// compiled them (so a changed compiler never reads an older one's filter). Decoding Docker's profile
/// and compiling it costs about 13 ms of CPU at every container start; reading a cached
/// filter well under one.
enum SeccompCache {
    static let directory = "/run/swiftlet/seccomp"

    /// The filter for `profile` (a profile's JSON text) and `capabilities`: from the cache,
    /// or `compile`d and stored. A cache that cannot be written only costs the compile.
    static func filter(profile: [UInt8], capabilities: Capabilities,
                       compile: () throws -> SeccompFilter) throws -> SeccompFilter {
        var key = Data(profile)
        key.append(contentsOf: Array("\n\(String(capabilities.mask, radix: 16))\n\(kernelRelease)\n\(libraryVersion)\n\(compilerIdentity)".utf8))
        let path = "\(directory)/\(Digest.of(key).hex).bpf"
        if let cached = FileManager.default.contents(atPath: path), !cached.isEmpty, cached.count % 8 == 0 {
            return SeccompFilter(program: Array(cached))
        }
        let filter = try compile()
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? AtomicFile.write(filter.program, to: path)
        return filter
    }

    static let kernelRelease: String = {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }()

    /// This executable's size and modification time: a rebuilt compiler has new ones.
    static let compilerIdentity: String = {
        var status = stat()
        guard stat("/proc/self/exe", &status) == 0 else { return "" }
        return "\(status.st_size)-\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }()

    static let libraryVersion: String = {
        guard let version = seccomp_version() else { return "" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }()
}
