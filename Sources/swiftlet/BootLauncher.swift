#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import Runtime

/// `swiftlet boot …`: replaces this process with `swiftlet-vmm` (where ``InstallLayout``
/// finds it), which does the booting. The VM process then carries only the Machine
/// code, not the Foundation and HTTP libraries the rest of the CLI links.
struct BootLauncher: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a Linux kernel in a microVM (see `swiftlet boot --help`)."
    )

    @Argument(parsing: .captureForPassthrough, help: "Options for swiftlet-vmm: --kernel, --initrd, --cmdline, --cpus, --memory, --disk PATH[,ro], --net tap=NAME[,mac=MAC], --vsock cid=N,uds=PATH, --console serial|virtio, --boot-timer, --no-jail.")
    var options: [String] = []

    func run() throws {
        let vmm = Self.vmmPath()
        var argv: [UnsafeMutablePointer<CChar>?] = ([vmm] + options).map { strdup($0) }
        argv.append(nil)
        execv(vmm, &argv)
        let err = errno
        printError("swiftlet boot: error: cannot run \(vmm): \(String(cString: strerror(err)))")
        throw ExitCode(2)
    }

    /// `swiftlet-vmm`, from the running executable's layout.
    static func vmmPath() -> String {
        InstallLayout.running().helper("swiftlet-vmm")
    }

    private func printError(_ message: String) {
        let line = message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
