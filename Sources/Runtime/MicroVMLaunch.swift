import HostSystem
import Foundation
import Units
import VMLaunch
#if canImport(Glibc)
import Glibc
#endif

/// The files a microVM container boots from (where ``InstallLayout`` finds them):
/// `swiftlet-vmm` and, from the guest-images directory, `container-initramfs.cpio.gz`
/// (the container agent, swiftlet-init, as /init) and a guest kernel: the minimal
/// `microvm-vmlinux` (PVH, drivers built in: boots in about half the time) when it was
/// built (`guest-images/build --microvm-kernel`), else Debian's cloud kernel `vmlinuz`,
/// whose modules the initramfs carries.
struct GuestFiles: Equatable {
    /// Kernels in order of preference.
    static let kernelNames = ["microvm-vmlinux", "vmlinuz"]
    static let initramfsName = "container-initramfs.cpio.gz"

    var vmm: String
    var kernel: String
    var initramfs: String

    /// Locates the files for `executable`; a missing one is an error naming it and how
    /// to build it.
    static func locate(executable: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GuestFiles {
        let layout = InstallLayout(executable: executable)
        let vmm = layout.helper("swiftlet-vmm")
        guard access(vmm, X_OK) == 0 else {
            throw SwiftletError("cannot run microVM containers: \(vmm) is missing (build it with `swift build`)")
        }
        let images = layout.guestImages(environment: environment)
        let kernels = kernelNames.map { name in "\(images)/\(name)" }
        let kernel = kernels.first { path in access(path, R_OK) == 0 } ?? kernels[kernels.count - 1]
        let files = GuestFiles(vmm: vmm, kernel: kernel, initramfs: "\(images)/\(initramfsName)")
        let builders = [(files.kernel, "guest-images/build"),
                        (files.initramfs, "guest-images/build-container-initramfs --init .build/debug/swiftlet-init")]
        for (path, builder) in builders where access(path, R_OK) != 0 {
            throw SwiftletError("cannot run microVM containers: \(path) is missing (build it with \(builder), or set SWIFTLET_GUEST_IMAGES)")
        }
        return files
    }
}

/// How a microVM container's VM is sized and wired, and the `swiftlet-vmm` command line
/// for it.
///
/// - vCPUs: `--cpus` rounded up, default 1 (a VM cannot have a fraction of a vCPU).
/// - RAM: `--memory` plus 128 MiB for the guest kernel and agent (as Kata Containers adds
///   the limit to a base), default 512 MiB; the guest kernel's OOM killer enforces it.
/// - Disks in the order the agent expects (`ContainerSetup`): vda the image's
///   EROFS rootfs (read-only), vdb the container's writable ext4 disk, vdc… the named
///   volumes in mount order (read-only ones also read-only at the device).
/// - vsock: guest CID 3, host side a Firecracker-style Unix socket.
/// - Network (`--network bridge`): one virtio-net on the container's TAP device with the
///   container's MAC; the agent configures it as eth0.
/// - Kernel command line: `KernelCommandLine.unattended()` (serial console, captured in
///   the container's console.log; quiet; a panic ends the VM at once).
///
/// ``bootArguments`` is the launch contract `swiftlet-vmm` parses (`BootArguments`).
struct MicroVMLaunch {
    static let commandLine = KernelCommandLine.unattended()
    static let guestCID = 3
    static let defaultMemoryMiB: Int64 = 512

    /// A microVM's vCPUs for `--cpus`: rounded up, at least one.
    static func vcpus(for cpus: Double?) -> Int { max(1, Int((cpus ?? 1).rounded(.up))) }
    static let memoryOverheadMiB: Int64 = 128

    var files: GuestFiles
    var cpus: Int
    var memoryMiB: Int64
    /// Host paths and whether each is read-only, vda first.
    var disks: [(path: String, readOnly: Bool)]
    var vsockSocket: String
    /// The TAP device and guest MAC of the container's virtio-net, nil for none.
    var network: (tap: String, mac: String)?

    init(files: GuestFiles, limits: ResourceLimits, rootfs: String, writable: String,
         volumes: [(path: String, readOnly: Bool)], vsockSocket: String) {
        self.files = files
        cpus = Self.vcpus(for: limits.cpus)
        // Whole MiB rounded up, without adding to a limit that may be near Int64.max.
        memoryMiB = limits.memory.map { ($0 >> 20) + (($0 & ((1 << 20) - 1)) == 0 ? 0 : 1) + Self.memoryOverheadMiB } ?? Self.defaultMemoryMiB
        disks = [(rootfs, true), (writable, false)] + volumes
        self.vsockSocket = vsockSocket
    }

    /// The guest's name of the n-th disk: vda, vdb, …
    static func guestDevice(_ index: Int) -> String {
        "/dev/vd" + String(UnicodeScalar(UInt8(ascii: "a") + UInt8(index)))
    }

    /// At most vda…vdz.
    static let maximumDisks = 26

    /// What `swiftlet-vmm` is asked to boot.
    var bootArguments: BootArguments {
        var boot = BootArguments()
        boot.kernel = files.kernel
        boot.initrd = files.initramfs
        boot.commandLine = Self.commandLine.description
        boot.cpus = String(cpus)
        boot.memory = GuestMemorySize.argument(mebibytes: memoryMiB)
        boot.disks = disks.map { $0.readOnly ? "\($0.path),ro" : $0.path }
        boot.vsock = "cid=\(Self.guestCID),uds=\(vsockSocket)"
        boot.networks = network.map { ["tap=\($0.tap),mac=\($0.mac)"] } ?? []
        return boot
    }

    /// The VMM's command line, program first.
    var arguments: [String] { [files.vmm] + bootArguments.arguments }
}
