import Foundation
import Runtime
import Testing

/// Where executables find their helpers and the guest images: a build tree, an installed
/// prefix (from bin and from libexec/swiftlet), and the environment's override.
@Suite struct InstallLayoutTests {
    let base = NSTemporaryDirectory() + "swiftlet-layout-\(UUID().uuidString)"

    func make(_ directory: String, executables: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: "\(base)/\(directory)", withIntermediateDirectories: true)
        for name in executables {
            _ = FileManager.default.createFile(atPath: "\(base)/\(directory)/\(name)", contents: nil, attributes: [.posixPermissions: 0o755])
        }
    }

    @Test func buildTreeFindsEverythingBesideAndTheCheckoutsGuestImages() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        let bin = "checkout/.build/x86_64-unknown-linux-gnu/debug"
        try make(bin, executables: ["swiftlet", "swiftlet-shim"])
        try make("checkout/guest-images/out")
        let layout = InstallLayout(executable: "\(base)/\(bin)/swiftlet")
        #expect(layout.helper("swiftlet-shim") == "\(base)/\(bin)/swiftlet-shim")
        #expect(layout.guestImages(environment: [:]) == "\(base)/checkout/guest-images/out")
        #expect(layout.guestImages(environment: ["SWIFTLET_GUEST_IMAGES": "/elsewhere"]) == "/elsewhere")
    }

    @Test func installedPrefixFromBinAndFromLibexec() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        try make("prefix/bin", executables: ["swiftlet", "swiftletd"])
        try make("prefix/libexec/swiftlet", executables: ["swiftlet-shim", "swiftlet-vmm"])
        try make("prefix/share/swiftlet/guest-images")
        // A checkout's guest-images/out above the prefix loses to the installed ones.
        try make("guest-images/out")
        let fromBin = InstallLayout(executable: "\(base)/prefix/bin/swiftlet")
        #expect(fromBin.prefix == "\(base)/prefix")
        #expect(fromBin.helper("swiftlet-shim") == "\(base)/prefix/libexec/swiftlet/swiftlet-shim")
        #expect(fromBin.guestImages(environment: [:]) == "\(base)/prefix/share/swiftlet/guest-images")
        let fromShim = InstallLayout(executable: "\(base)/prefix/libexec/swiftlet/swiftlet-shim")
        #expect(fromShim.prefix == "\(base)/prefix")
        #expect(fromShim.helper("swiftlet-vmm") == "\(base)/prefix/libexec/swiftlet/swiftlet-vmm")
        #expect(fromShim.guestImages(environment: [:]) == "\(base)/prefix/share/swiftlet/guest-images")
        // A helper missing from libexec is looked for beside the executable (and is missing there too).
        #expect(fromBin.helper("swiftlet-init") == "\(base)/prefix/bin/swiftlet-init")
    }
}
