import Foundation
import Testing
import VMLaunch

/// The block, entropy and console devices on a Linux-capable KVM (hardware, or nested inside scripts/kvm-rig):
/// the Debian cloud kernel with the project's initramfs, booted by `swiftlet boot` with
/// virtio-blk disks, virtio-rng and the virtio console. Each test is one boot, checking
/// several devices at once because every rig run costs ~20 s.
@Suite(.serialized) struct VirtioRigTests {
    static let swiftlet = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet").path
    static let patternSize = 64 << 20

    func swiftletBoot(_ options: [String]) -> [String] {
        let images = KVMTestPath.guestImages.path
        return [Self.swiftlet, "boot", "--kernel", "\(images)/vmlinuz", "--initrd", "\(images)/initramfs.cpio.gz",
                "--memory", "256M", "--console", "virtio"] + options
    }

    func sha256(_ arguments: [String]) throws -> String {
        let result = try CommandResult.run(["sh", "-c", arguments.joined(separator: " ") + " | sha256sum"])
        return String(result.stdout.prefix(64))
    }

    func temporaryImage(_ name: String, megabytes: Int, fill: UInt8) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-virtio-\(getpid())-\(name).img").path
        try Data(repeating: fill, count: megabytes << 20).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The guest writes a 64 MiB pattern to vda and reads it back past the page cache;
    /// a write to the read-only vdb fails while the guest carries on; /dev/hwrng gives
    /// data; the program's output and kernel messages arrive over hvc0. (Kernel messages
    /// from before virtio_console loads are lost: Linux's hvc core registers its console
    /// early and drops output until a backend exists, so the Debian kernel's early log
    /// only reaches COM1.)
    @Test func diskReadOnlyDiskRngAndConsoleNeedsKVM() throws {
        guard KVMTestPath.ready(for: "diskReadOnlyDiskRngAndConsoleNeedsKVM") else { return }
        #expect(FileManager.default.isExecutableFile(atPath: Self.swiftlet), "build swiftlet first (swift build)")
        let disk = try temporaryImage("vda", megabytes: 80, fill: 0)
        let readOnly = try temporaryImage("vdb", megabytes: 4, fill: 0x5A)
        defer {
            try? FileManager.default.removeItem(atPath: disk)
            try? FileManager.default.removeItem(atPath: readOnly)
        }
        let expected = try sha256(["yes swiftlet-pattern | head -c \(Self.patternSize)"])
        let readOnlyBefore = try sha256(["cat", readOnly])
        let program = [
            "exec > /dev/hvc0 2>&1 < /dev/hvc0",
            "yes swiftlet-pattern | head -c \(Self.patternSize) > /dev/vda && sync && echo 3 > /proc/sys/vm/drop_caches",
            "echo vda-sha=$(head -c \(Self.patternSize) /dev/vda | sha256sum)",
            "dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=notrunc",
            "echo vdb-write-status=$?",
            "echo vdb-sha=$(sha256sum < /dev/vdb)",
            "echo hwrng-bytes=$(head -c 4096 /dev/hwrng | wc -c)",
            "echo still-running",
        ].joined(separator: "; ")
        let result = try KVMTestPath.current.run(swiftletBoot([
            "--disk", disk, "--disk", "\(readOnly),ro",
            "--cmdline", KernelCommandLine(console: .virtio, panicTimeout: -1, initArguments: ["sh", "-c", "\"\(program)\""]).description,
        ]))
        let console = result.stdout
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(console.contains("drop_caches: 3"), "kernel messages come over hvc0: \(console)")
        #expect(console.contains("vda-sha=\(expected)"), "console: \(console)")
        #expect(try sha256(["head -c \(Self.patternSize)", disk]) == expected, "the host image holds the pattern")
        #expect(console.contains("vdb-write-status=1"), "console: \(console)")
        #expect(console.contains("vdb-sha=\(readOnlyBefore)"))
        #expect(try sha256(["cat", readOnly]) == readOnlyBefore)
        #expect(console.contains("hwrng-bytes=4096"))
        #expect(console.contains("still-running"))
    }

    /// Host terminal input reaches a shell on hvc0 and its output comes back.
    @Test func interactiveShellOverHvc0NeedsKVM() throws {
        guard KVMTestPath.ready(for: "interactiveShellOverHvc0NeedsKVM") else { return }
        let boot = swiftletBoot(["--cmdline", "'\(KernelCommandLine(console: .virtio, panicTimeout: -1))'"]).joined(separator: " ")
        // Type only once the shell's prompt is on hvc0: the guest's virtio_console drops
        // input that arrives before a process opens the port. The FIFO lives on tmpfs
        // (/dev/shm): the rig's 9p /tmp refuses special files.
        let script = """
            fifo=$(mktemp -u /dev/shm/swiftlet-hvc0.XXXXXX); mkfifo "$fifo" || exit 125; out="$fifo.out"
            \(boot) < "$fifo" > "$out" 2>&1 &
            vm=$!
            exec 3> "$fifo"
            for i in $(seq 600); do grep -q '# ' "$out" && break; sleep 0.5; done
            printf 'echo shell-says-$((6*7))\\nexit\\n' >&3
            wait $vm; status=$?
            cat "$out"; rm -f "$fifo" "$out"; exit $status
            """
        let result = try KVMTestPath.current.run(["sh", "-c", script])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("shell-says-42"), "console: \(result.stdout)\nstderr: \(result.stderr)")
    }
}
