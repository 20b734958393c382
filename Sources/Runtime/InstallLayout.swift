import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where Swiftlet's executables find each other and the guest images, in the two layouts
/// they run from:
///
/// - installed (`scripts/install`): `PREFIX/bin/{swiftlet,swiftletd}`, the helpers
///   (`swiftlet-shim`, `swiftlet-vmm`, `swiftlet-init`) in `PREFIX/libexec/swiftlet/`,
///   the guest images in `PREFIX/share/swiftlet/guest-images/`;
/// - a build tree: every executable in `.build/<config>/`, the guest images in the
///   checkout's `guest-images/out`.
///
/// A helper is `../libexec/swiftlet/NAME` from the running executable's directory (bin),
/// else beside it (a build tree, or a helper in libexec running another). The guest
/// images are the first of `$SWIFTLET_GUEST_IMAGES`, `PREFIX/share/swiftlet/guest-images`
/// (PREFIX the directory above bin, or two above libexec/swiftlet), and `guest-images/out`
/// in the nearest ancestor of the executable's directory that has one.
public struct InstallLayout: Equatable, Sendable {
    /// The running executable, and its directory.
    public let executable: String
    public let executableDirectory: String

    public init(executable: String) {
        self.executable = executable
        executableDirectory = (executable as NSString).deletingLastPathComponent
    }

    /// The layout of this process's executable.
    public static func running() -> InstallLayout {
        InstallLayout(executable: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    /// PREFIX, were this an installed layout: above `bin`, or above `libexec/swiftlet`.
    public var prefix: String {
        let directory = executableDirectory as NSString
        let parent = directory.deletingLastPathComponent as NSString
        let inLibexec = directory.lastPathComponent == "swiftlet" && parent.lastPathComponent == "libexec"
        return inLibexec ? parent.deletingLastPathComponent : parent as String
    }

    /// The path of helper executable `name` (which may not exist: callers say so).
    public func helper(_ name: String) -> String {
        let installed = "\(prefix)/libexec/swiftlet/\(name)"
        return access(installed, X_OK) == 0 ? installed : "\(executableDirectory)/\(name)"
    }

    /// The guest images directory (which may not exist: callers say so).
    public func guestImages(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["SWIFTLET_GUEST_IMAGES"], !configured.isEmpty { return configured }
        let installed = "\(prefix)/share/swiftlet/guest-images"
        if access(installed, F_OK) == 0 { return installed }
        var ancestor = executableDirectory
        while ancestor != "/" && !ancestor.isEmpty {
            ancestor = (ancestor as NSString).deletingLastPathComponent
            let candidate = ancestor == "/" ? "/guest-images/out" : "\(ancestor)/guest-images/out"
            if access(candidate, F_OK) == 0 { return candidate }
        }
        return installed
    }
}
