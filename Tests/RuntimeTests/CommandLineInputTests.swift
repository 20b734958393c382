import Foundation
import Testing

/// No value typed on the command line crashes a Swiftlet program.
/// Boundary and garbage sizes, CPU counts, process limits, names and timeouts make
/// `swiftlet` exit 125 and `swiftlet-vmm` exit 2 (a crash would be 132, 134 or 139), with
/// one stderr line naming the value. Every case fails before an image is looked up, so
/// the state root is an empty temporary directory.
struct CommandLineInputTests {
    static let badContainerOptions: [[String]] = [
        ["-m", "99999999999999999g"], ["-m", "9223372036854775808"], ["-m", "1x"], ["-m", "-1"], ["-m", ""],
        ["-m", "1e400"], ["-m", "nan"], ["--memory", "١g"], ["-m", " 1g"], ["-m", "1gib2"], ["-m", "1"], ["-m", "6291455"],
        ["--cpus", "0"], ["--cpus", "nan"], ["--cpus", "inf"], ["--cpus", "1e400"], ["--cpus", "-1"], ["--cpus", "1025"],
        ["--cpus", "0.0000000001"], ["--cpus", ""], ["--cpus", "99999999999999999999"],
        ["--pids-limit", "abc"], ["--pids-limit", "99999999999999999999"], ["--pids-limit", "1.5"], ["--pids-limit", "4194305"],
        ["--name", "a"], ["--name", "-web"], ["--name", "web app"], ["--name", ""], ["--name", "wéb"], ["--name", "//web"],
    ]

    @Test(arguments: ["create", "run"], badContainerOptions)
    func aBadContainerValueIsOneLineAndExit125(command: String, option: [String]) throws {
        let result = try inTemporaryRoot { root in
            try Swiftlet.execute([Swiftlet.executable, command, "--root", root, "--isolation", "namespace"] + option
                                     + [Swiftlet.busybox, "true"], root: root)
        }
        expectOneLine(result, status: 125, saying: "invalid argument \"\(option[1])\" for \"")
        #expect(result.stderr.contains(option[0]), "\(result.stderr)")
    }

    @Test(arguments: ["nan", "-1", "1e400", "99999999999999999999", "10x", "", "١", "3000000h"])
    func aBadStopTimeoutIsOneLineAndExit125(timeout: String) throws {
        let result = try inTemporaryRoot { root in
            try Swiftlet.execute([Swiftlet.executable, "stop", "--root", root, "-t", timeout, "no-such-container"], root: root)
        }
        expectOneLine(result, status: 125, saying: "invalid argument \"\(timeout)\" for \"-t, --time\" flag: ")
    }

    /// Boundary values that are valid get past parsing: the image is what is missing
    /// (`--pull never`: no attempt to fetch it from a registry).
    @Test(arguments: [
        ["-m", "1gb"], ["-m", "1GiB"], ["-m", "1.5g"], ["-m", "0"], ["--memory", "6m"], ["--cpus", "1024"],
        ["--cpus", "0.000000001"], ["--pids-limit", "-1"], ["--pids-limit", "4194304"], ["--name", "/ok-name"],
    ])
    func aValidBoundaryValueGetsToTheImage(option: [String]) throws {
        let result = try inTemporaryRoot { root in
            try Swiftlet.execute([Swiftlet.executable, "create", "--root", root, "--isolation", "namespace", "--pull", "never"]
                                     + option + ["no-such-image"], root: root)
        }
        expectOneLine(result, status: 125, saying: "Unable to use image 'no-such-image'")
    }

    static let badMachineOptions: [[String]] = [
        ["--memory", ""], ["--memory", "1x"], ["--memory", "-1"], ["--memory", "99999999999999999g"], ["--memory", "1e400"],
        ["--memory", "nan"], ["--memory", "１２８"], ["--cpus", ""], ["--cpus", "0"], ["--cpus", "1.5"], ["--cpus", "255"],
        ["--cpus", "nan"], ["--cpus", "-1"], ["--cpus", "99999999999999999999"],
    ]

    @Test(arguments: badMachineOptions)
    func aBadMachineValueIsOneLineAndExit2(option: [String]) throws {
        let vmm = URL(fileURLWithPath: Swiftlet.executable).deletingLastPathComponent().appendingPathComponent("swiftlet-vmm").path
        let result = try inTemporaryRoot { root in
            try Swiftlet.execute([vmm, "--kernel", "/no-such-kernel"] + option, root: root)
        }
        expectOneLine(result, status: 2, saying: option[0])
        #expect(result.stderr.contains("\"\(option[1])\"") || result.stderr.contains("'\(option[1])'"), "\(result.stderr)")
    }

    /// Docker's rule everywhere: a size without a unit is bytes, so `--memory 256` is the
    /// same (too small) value for a namespace container, a microVM container and `swiftlet boot`.
    @Test func aBareMemoryNumberIsBytesEverywhere() throws {
        for isolation in ["namespace", "microvm"] {
            let result = try inTemporaryRoot { root in
                try Swiftlet.execute([Swiftlet.executable, "run", "--rm", "--isolation", isolation, "--memory", "256",
                                      "no-such-image"], root: root)
            }
            expectOneLine(result, status: 125, saying: "minimum memory limit allowed is 6MB")
        }
        let vmm = URL(fileURLWithPath: Swiftlet.executable).deletingLastPathComponent().appendingPathComponent("swiftlet-vmm").path
        let result = try inTemporaryRoot { root in
            try Swiftlet.execute([vmm, "--kernel", "/no-such-kernel", "--memory", "256"], root: root)
        }
        expectOneLine(result, status: 2, saying: "--memory must be at least 16 MiB, got 256 bytes")
    }

    private func expectOneLine(_ result: CommandResult, status: Int32, saying text: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 1 && result.stderr.hasSuffix("\n"), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(text), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    private func inTemporaryRoot(_ body: (String) throws -> CommandResult) throws -> CommandResult {
        let root = NSTemporaryDirectory() + "swiftlet-input-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try body(root)
    }
}
