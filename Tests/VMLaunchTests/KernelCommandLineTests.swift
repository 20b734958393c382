import Testing
import VMLaunch

/// The one kernel command-line builder: its defaults and the unattended variant.
@Suite struct KernelCommandLineTests {
    @Test func defaultsAndVariants() {
        #expect(KernelCommandLine().description == "console=ttyS0 reboot=k panic=1 pci=off")
        #expect(KernelCommandLine(console: .virtio).description == "console=hvc0 reboot=k panic=1 pci=off")
        #expect(KernelCommandLine.unattended().description == "console=ttyS0 reboot=k panic=-1 pci=off quiet")
        #expect(KernelCommandLine.unattended(console: .virtio, initArguments: ["sh", "-c", "echo hi"]).description
                == "console=hvc0 reboot=k panic=-1 pci=off quiet -- sh -c echo hi")
        #expect(KernelCommandLine(extra: ["virtio_mmio.device=4K@0xd0000000:5"]).description
                == "console=ttyS0 reboot=k panic=1 pci=off virtio_mmio.device=4K@0xd0000000:5")
    }

    @Test func bootArgumentsDefaultToIt() {
        #expect(BootArguments().effectiveCommandLine == KernelCommandLine().description)
        var virtio = BootArguments()
        virtio.console = "virtio"
        #expect(virtio.effectiveCommandLine == KernelCommandLine(console: .virtio).description)
    }
}
