import Foundation
@testable import Runtime
import Testing
import Units
import VMLaunch
#if canImport(Glibc)
import Glibc
#endif

/// How a microVM container's VM is sized and wired, and where its boot files are found.
@Suite struct MicroVMLaunchTests {
    let files = GuestFiles(vmm: "/opt/bin/swiftlet-vmm", kernel: "/g/vmlinuz", initramfs: "/g/container-initramfs.cpio.gz")

    @Test func commandLineHasDisksInAgentOrderAndTheVsockSocket() throws {
        let launch = MicroVMLaunch(files: files, limits: ResourceLimits(), rootfs: "/store/rootfs/abc.erofs",
                                   writable: "/b/disk.ext4", volumes: [("/v/one.ext4", false), ("/v/two.ext4", true)],
                                   vsockSocket: "/run/swiftlet/id/vsock.sock")
        #expect(launch.arguments.first == "/opt/bin/swiftlet-vmm")
        // What swiftlet-vmm reads back from that command line.
        let parsed = try BootArguments(parsing: Array(launch.arguments.dropFirst()))
        var expected = BootArguments()
        expected.kernel = "/g/vmlinuz"
        expected.initrd = "/g/container-initramfs.cpio.gz"
        expected.commandLine = "console=ttyS0 reboot=k panic=-1 pci=off quiet"
        expected.cpus = "1"
        expected.memory = "512M"
        expected.disks = ["/store/rootfs/abc.erofs,ro", "/b/disk.ext4", "/v/one.ext4", "/v/two.ext4,ro"]
        expected.vsock = "cid=3,uds=/run/swiftlet/id/vsock.sock"
        #expect(parsed == expected)
        #expect((0..<4).map(MicroVMLaunch.guestDevice) == ["/dev/vda", "/dev/vdb", "/dev/vdc", "/dev/vdd"])
    }

    /// `--network bridge`: a virtio-net on the container's TAP with its MAC, after the vsock.
    @Test func bridgeNetworkAddsTheTapDevice() throws {
        var launch = MicroVMLaunch(files: files, limits: ResourceLimits(), rootfs: "r", writable: "w", volumes: [],
                                   vsockSocket: "s")
        #expect(launch.bootArguments.networks.isEmpty)
        launch.network = (tap: "sl0123456789ab", mac: "02:42:0a:58:00:02")
        #expect(try BootArguments(parsing: Array(launch.arguments.dropFirst())).networks == ["tap=sl0123456789ab,mac=02:42:0a:58:00:02"])
    }

    /// --cpus rounds up to whole vCPUs; --memory gets the guest's 128 MiB on top.
    /// The largest `-m` (Int64.max bytes) sizes the VM without overflowing; swiftlet-vmm
    /// then refuses it as a size, with one line.
    @Test(arguments: [(1.5, Int64(64 << 20), 2, Int64(192)), (0.25, Int64(1 << 30), 1, Int64(1152)), (4, Int64(1000), 4, Int64(129)),
                      (1, Int64.max, 1, Int64(1 << 43) + 128)])
    func limitsSizeTheVM(cpus: Double, memory: Int64, vcpus: Int, mebibytes: Int64) {
        let launch = MicroVMLaunch(files: files, limits: ResourceLimits(memory: memory, cpus: cpus), rootfs: "r",
                                   writable: "w", volumes: [], vsockSocket: "s")
        #expect(launch.cpus == vcpus)
        #expect(launch.memoryMiB == mebibytes)
        #expect(launch.bootArguments.memory == GuestMemorySize.argument(mebibytes: mebibytes))
    }

    @Test func missingBootFileIsOneClearError() throws {
        let base = NSTemporaryDirectory() + "swiftlet-guest-files-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: "\(base)/images", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(base)/swiftlet-vmm", contents: nil, attributes: [.posixPermissions: 0o755])
        _ = FileManager.default.createFile(atPath: "\(base)/images/vmlinuz", contents: Data())
        let environment = ["SWIFTLET_GUEST_IMAGES": "\(base)/images"]
        #expect {
            _ = try GuestFiles.locate(executable: "\(base)/swiftlet", environment: environment)
        } throws: { error in
            "\(error)" == "cannot run microVM containers: \(base)/images/container-initramfs.cpio.gz is missing (build it with guest-images/build-container-initramfs --init .build/debug/swiftlet-init, or set SWIFTLET_GUEST_IMAGES)"
        }
        _ = FileManager.default.createFile(atPath: "\(base)/images/container-initramfs.cpio.gz", contents: Data())
        #expect(try GuestFiles.locate(executable: "\(base)/swiftlet", environment: environment).kernel == "\(base)/images/vmlinuz")
        // The minimal microVM kernel is preferred when it was built.
        _ = FileManager.default.createFile(atPath: "\(base)/images/microvm-vmlinux", contents: Data())
        #expect(try GuestFiles.locate(executable: "\(base)/swiftlet", environment: environment).kernel == "\(base)/images/microvm-vmlinux")
    }
}
