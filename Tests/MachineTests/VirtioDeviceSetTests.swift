import Testing
import X86
@testable import Machine
import VMLaunch

/// How Machine announces and configures its virtio-mmio devices.
@Suite struct VirtioDeviceSetTests {
    @Test func diskOptionsParse() throws {
        #expect(try DiskOption(parsing: "/a.img") == DiskOption(path: "/a.img"))
        #expect(try DiskOption(parsing: "/a.img,ro") == DiskOption(path: "/a.img", readOnly: true))
        for bad in ["", ",ro", "/a.img,rw", "/a.img,ro,x"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try DiskOption(parsing: bad) }
        }
    }

    @Test func networkOptionsParse() throws {
        let plain = try NetworkOption(parsing: "tap=tap0")
        #expect(plain.tap == "tap0" && plain.mac == NetworkOption.defaultMAC)
        #expect(try NetworkOption(parsing: "tap=t1,mac=52:54:00:AB:cd:01").mac == [0x52, 0x54, 0x00, 0xAB, 0xCD, 0x01])
        for bad in ["", "tap=", "mac=52:54:00:ab:cd:01", "tap=t,mac=52:54", "tap=t,mtu=9000", "tap=a-very-long-tap-name"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try NetworkOption(parsing: bad) }
        }
    }

    @Test func vsockOptionsParse() throws {
        #expect(try VsockOption(parsing: "cid=3,uds=/run/v.sock") == VsockOption(guestCID: 3, udsPath: "/run/v.sock"))
        #expect(try VsockOption(parsing: "uds=/a,cid=42") == VsockOption(guestCID: 42, udsPath: "/a"))
        for bad in ["", "cid=3", "uds=/a", "cid=2,uds=/a", "cid=x,uds=/a", "cid=4294967295,uds=/a", "cid=3,uds=", "cid=3,uds=/a,ro"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try VsockOption(parsing: bad) }
        }
        let configuration = try MachineConfiguration.fromOptions(
            kernel: "/k", initrd: nil, commandLine: nil, cpus: "1", memory: "256M", bootTimerLogging: false,
            startNanoseconds: 0, vsock: "cid=5,uds=/tmp/x.sock")
        #expect(configuration.vsock == VsockOption(guestCID: 5, udsPath: "/tmp/x.sock"))
    }

    @Test func commandLineEntriesGoBeforeInitArguments() {
        #expect(VirtioDeviceSet.commandLine("console=ttyS0 -- sh -c x", deviceCount: 2)
                == "console=ttyS0 virtio_mmio.device=4K@0xd0000000:16 virtio_mmio.device=4K@0xd0001000:17 -- sh -c x")
        #expect(VirtioDeviceSet.commandLine("quiet", deviceCount: 1) == "quiet virtio_mmio.device=4K@0xd0000000:16")
        #expect(VirtioDeviceSet.commandLine("quiet", deviceCount: 0) == "quiet")
    }

    @Test func acpiDescribesEachDeviceWindowAndGSI() {
        let devices = VirtioDeviceSet.acpiDevices(count: 2)
        #expect(devices.map(\.uniqueID) == [0, 1])
        #expect(devices[1].resources == [.memory32Fixed(base: 0xD000_1000, length: 0x1000, writable: true),
                                         .interrupt(gsi: 17, edgeTriggered: true, activeLow: false)])
    }

    @Test func optionsSelectDisksAndConsole() throws {
        let configuration = try MachineConfiguration.fromOptions(
            kernel: "/k", initrd: nil, commandLine: nil, cpus: "1", memory: "256M", bootTimerLogging: false,
            startNanoseconds: 0, disks: ["/a.img", "/b.img,ro"], console: "virtio")
        #expect(configuration.disks == [DiskOption(path: "/a.img"), DiskOption(path: "/b.img", readOnly: true)])
        #expect(configuration.console == .virtio)
        #expect(configuration.commandLine == KernelCommandLine(console: .virtio).description)
        #expect(throws: ConfigurationError.self) {
            try MachineConfiguration.fromOptions(kernel: "/k", initrd: nil, commandLine: nil, cpus: "1", memory: "256M",
                                                 bootTimerLogging: false, startNanoseconds: 0, console: "vga")
        }
    }

    @Test func tooManyDevicesAreRefused() {
        var configuration = MachineConfiguration(kernelPath: "/k")
        configuration.disks = Array(repeating: DiskOption(path: "/dev/null"), count: 9)
        #expect(throws: ConfigurationError("at most 8 virtio devices fit, 10 requested")) {
            try VirtioDeviceSet.devices(for: configuration)
        }
    }
}
