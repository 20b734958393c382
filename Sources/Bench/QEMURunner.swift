import HostSystem
import ChildProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VMLaunch

/// A peer: QEMU's `-M microvm` machine booting the guest kernel with the stock initramfs
/// plus the workload (guest-images' /init runs the arguments after `--` on the kernel
/// command line, then powers off), 1 vCPU, 512 MiB, serial console on stdio, KVM.
/// Its root filesystem is the initramfs, in guest RAM, so the rootfs disk test does not
/// apply; the volume test uses a raw virtio-blk disk (`/dev/vda`, read and written as a
/// block device). An instance is the QEMU process; teardown kills it (SIGKILL), as
/// `rm -f` does to a container.
final class QEMURunner: SystemRunner {
    let id = "qemu-microvm"
    let label: String
    private let kernel: String
    private let initramfs: String
    private let directory: String
    private let volumeImage: String
    static let volumeMiB = 512

    /// Throws when QEMU is not installed.
    init(kernel: String, initramfs: String, directory: String) throws {
        guard let qemu = ChildProcess.locate("qemu-system-x86_64") else {
            throw SwiftletError("qemu-system-x86_64 is not installed (scripts/setup installs it)")
        }
        let version = (try? Subprocess.run([qemu, "--version"]).stdout)?
            .split(separator: "\n").first.map { String($0) } ?? "QEMU"
        label = "QEMU -M microvm (\(version.replacingOccurrences(of: "QEMU emulator version ", with: "")))"
        self.kernel = kernel
        self.initramfs = initramfs
        self.directory = directory
        volumeImage = "\(directory)/volume.raw"
    }

    private func arguments(_ tasks: [String], volume: Bool) -> [String] {
        let cmdline = KernelCommandLine.unattended(initArguments: [BenchImage.workloadPath] + tasks).description
        var arguments = ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host", "-smp", "1", "-m", "512M",
                         "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                         "-kernel", kernel, "-initrd", initramfs, "-append", cmdline, "-serial", "stdio"]
        if volume {
            arguments += ["-drive", "id=vol,file=\(volumeImage),format=raw,if=none",
                          "-device", "virtio-blk-device,drive=vol"]
        }
        return arguments
    }

    func prepare() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Subprocess.run(["truncate", "-s", "\(QEMURunner.volumeMiB)M", volumeImage])
    }

    func run(_ tasks: [String], volume: Bool, watch: String?) throws -> Subprocess {
        let process = try Subprocess(arguments(tasks, volume: volume), watch: watch)
        let (status, _) = process.wait(timeout: 900)
        guard status == 0, process.stdout.contains("program exited with status 0") else {
            let console = process.stdout.split(separator: "\n").suffix(6).joined(separator: " | ")
            throw SwiftletError("qemu-microvm run failed (exit \(status), no 'program exited with status 0' on the console): \(console) \(process.stderr)")
        }
        return process
    }

    func startInstance(_ index: Int, tasks: [String]) throws -> Instance {
        let process = try Subprocess(arguments(tasks, volume: false))
        let ready = try process.waitForOrKill("ready=1", timeout: 300)
        let pid = process.pid
        return Instance(name: "qemu-\(index)", launcher: process, readyAt: ready) { [pid] }
    }

    func teardown(_ instance: Instance) throws {
        instance.launcher.signal(SIGKILL)
        let (_, _) = instance.launcher.wait(timeout: 60)
    }

    var rootfsDiskPath: Result<String, SwiftletError> {
        .failure(SwiftletError("the QEMU peer's root filesystem is its initramfs (guest RAM)"))
    }

    var volumeDiskPath: Result<String, SwiftletError> { .success("/dev/vda") }

    var networkUnavailable: String? { "the QEMU peer is started without a network device (the benchmark sets up no TAP)" }

    func networkEndpoint(_ instance: Instance) -> Result<NetworkEndpoint, SwiftletError> {
        .failure(SwiftletError(networkUnavailable ?? ""))
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: volumeImage)
    }
}
