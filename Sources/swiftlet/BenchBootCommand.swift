import ArgumentParser
import Bench
import Foundation
import Runtime

/// `swiftlet bench boot`: swiftlet-vmm against QEMU `-M microvm` booting the same kernel
/// and initramfs (``BootBench``).
struct BenchBootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot-to-/init time and VMM memory: swiftlet-vmm vs QEMU -M microvm on the same kernel and initramfs.")

    @Option(help: "Boots per VMM.") var runs = 5
    @Option(help: "Guest memory in MiB.") var memory = 256
    @Option(help: "vCPUs.") var cpus = 1
    @Option(help: "The swiftlet-vmm to measure (default: the one beside this executable).") var vmm: String?
    @Option(help: "guest-images/out (default: $SWIFTLET_GUEST_IMAGES, else found above the executable or the working directory).")
    var guestImages: String?
    @Option(help: "scripts/kvm-rig, for hosts without hardware KVM (default: found like --guest-images).") var rig: String?
    @Option(help: "Also write the results as JSON to this file.") var json: String?
    @Flag(help: .hidden) var insideRig = false

    func validate() throws {
        guard runs >= 1, memory >= 64, cpus >= 1 else { throw ValidationError("--runs >= 1, --memory >= 64 and --cpus >= 1 are required") }
    }

    func run() throws {
        let layout = InstallLayout.running()
        let executable = layout.executable
        var options = BootBench.Options(
            vmm: vmm ?? layout.helper("swiftlet-vmm"),
            guestImages: guestImages ?? ProcessInfo.processInfo.environment["SWIFTLET_GUEST_IMAGES"]
                ?? BenchCommand.find("guest-images/out", from: executable) ?? "guest-images/out",
            rig: rig ?? BenchCommand.find("scripts/kvm-rig", from: executable), executable: executable)
        options.runs = runs
        options.memoryMiB = memory
        options.cpus = cpus
        options.insideRig = insideRig
        try reportingErrors {
            let (location, rows) = try BootBench.run(options) { line in
                FileHandle.standardError.write(Data("bench boot: \(line)\n".utf8))
            }
            let report = BootBench.Report(location: location, options: options, rows: rows)
            print(BootBench.render(report), terminator: "")
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            }
        }
    }
}
