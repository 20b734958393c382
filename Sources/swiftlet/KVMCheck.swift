import ArgumentParser
import KVM

/// `swiftlet kvm-check`: says what kind of KVM this host has and what can run on it.
struct KVMCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvm-check",
        abstract: "Report whether /dev/kvm can run Linux guests, only freestanding guests, or nothing."
    )

    @Option(help: "Path of the KVM device.")
    var device: String = "/dev/kvm"

    @Flag(help: "Exit 1 unless Linux guests can run directly on the device.")
    var requireLinux = false

    func run() throws {
        let kind = HostKVM.detect(devicePath: device)
        print(kind.summary)
        if requireLinux && !kind.runsLinuxGuests {
            throw ExitCode(1)
        }
    }
}
