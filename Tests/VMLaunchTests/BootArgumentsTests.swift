@testable import VMLaunch
import Testing

/// swiftlet-vmm's launch contract (`BootArguments`): both option spellings, repeatable
/// options, defaults, help, a clear error for each kind of bad input, and the round trip
/// from a value to its command line and back.
@Suite struct BootArgumentsTests {
    @Test func parsesEveryOptionInBothSpellings() throws {
        let parsed = try BootArguments(parsing: [
            "--kernel", "/k", "--initrd=/i", "--cmdline", "console=ttyS0 quiet", "--cpus=2", "--memory", "1G",
            "--disk", "/a.img", "--disk=/b.img,ro", "--net", "tap=t0", "--net=tap=t1,mac=02:00:00:00:00:01",
            "--vsock", "cid=3,uds=/run/v.sock", "--console=virtio", "--boot-timer",
        ])
        var expected = BootArguments()
        expected.kernel = "/k"
        expected.initrd = "/i"
        expected.commandLine = "console=ttyS0 quiet"
        expected.cpus = "2"
        expected.memory = "1G"
        expected.disks = ["/a.img", "/b.img,ro"]
        expected.networks = ["tap=t0", "tap=t1,mac=02:00:00:00:00:01"]
        expected.vsock = "cid=3,uds=/run/v.sock"
        expected.console = "virtio"
        expected.bootTimer = true
        #expect(parsed == expected)
    }

    @Test func defaultsMatchTheDocumentedOnes() throws {
        let parsed = try BootArguments(parsing: ["--kernel", "/k"])
        #expect(parsed.cpus == "1" && parsed.memory == "256M" && parsed.console == "serial")
        #expect(parsed.initrd == nil && parsed.commandLine == nil && parsed.vsock == nil)
        #expect(parsed.disks.isEmpty && parsed.networks.isEmpty && !parsed.bootTimer && !parsed.help)
    }

    @Test(arguments: [["-h"], ["--help"], ["--kernel", "/k", "--help"]])
    func helpIsAFlagAnywhere(arguments: [String]) throws {
        #expect(try BootArguments(parsing: arguments).help)
        #expect(BootArguments.usage.contains("--vsock cid=N,uds=PATH"))
    }

    @Test(arguments: [
        (["--kernal", "/k"], "unknown option \"--kernal\""),
        (["--kernel"], "--kernel needs a value"),
        (["--kernel", "/k", "--memory"], "--memory needs a value"),
        (["/k"], "unexpected argument \"/k\""),
        (["--boot-timer=yes"], "--boot-timer takes no value"),
    ])
    func badInputIsANamedError(arguments: [String], message: String) {
        #expect(throws: ConfigurationError(message + (message.hasPrefix("unknown") || message.hasPrefix("unexpected") ? " (see --help)" : ""))) {
            try BootArguments(parsing: arguments)
        }
    }

    @Test func aValueMayLookLikeAnOption() throws {
        #expect(try BootArguments(parsing: ["--cmdline", "--", "--kernel", "/k"]).commandLine == "--")
    }

    /// Every value a launcher can build parses back from its command line unchanged,
    /// whatever its strings hold (spaces, `=`, leading dashes, commas).
    @Test func valuesRoundTripThroughTheCommandLine() throws {
        var full = BootArguments()
        full.kernel = "/boot/vmlinuz with space"
        full.initrd = "/i=x"
        full.commandLine = "console=ttyS0 -- --kernel /evil"
        full.cpus = "4"
        full.memory = "1.5g"
        full.disks = ["/a.img,ro", "--disk"]
        full.networks = ["tap=t0,mac=02:00:00:00:00:01"]
        full.vsock = "cid=3,uds=/run/v.sock"
        full.console = "virtio"
        full.bootTimer = true
        full.noJail = true
        var help = BootArguments()
        help.help = true
        for value in [BootArguments(), full, help] {
            #expect(try BootArguments(parsing: value.arguments) == value, "\(value.arguments)")
        }
    }
}
