import Foundation
import Testing
import VMLaunch

/// The guest agent on a Linux-capable KVM (hardware, or nested in scripts/kvm-rig):
/// the Debian cloud kernel boots the container initramfs (swiftlet-init as PID 1) with an
/// EROFS rootfs of the busybox test image and an ext4 writable disk under swiftlet-vmm,
/// and swiftlet-agent-client drives sessions over the VMM's vsock Unix socket (on tmpfs:
/// /run in the rig). One rig run boots three VMs.
@Suite(.serialized) struct GuestAgentRigTests {
    static let root = KVMTestPath.repositoryRoot.path
    static let swiftlet = "\(root)/.build/debug/swiftlet"
    static let client = "\(root)/.build/debug/swiftlet-agent-client"
    static let vmm = "\(root)/.build/debug/swiftlet-vmm"
    static let initramfs = KVMTestPath.guestImages.appendingPathComponent("container-initramfs.cpio.gz").path

    /// Makes the disks on the host (building the test images first, a cached no-op when
    /// they are current): the image's EROFS rootfs (`swiftlet image rootfs`), a
    /// 64 MiB ext4 writable disk and an 8 MiB ext4 volume.
    func makeDisks(in directory: String) throws {
        let store = "\(directory)/store"
        let build = try CommandResult.run(["\(Self.root)/scripts/test-images/build"])
        try #require(build.status == 0, "scripts/test-images/build failed: \(build.stderr)")
        let load = try CommandResult.run([Self.swiftlet, "image", "load", "--root", store, "-i", "\(Self.root)/scripts/test-images/out/busybox.oci.tar"])
        #expect(load.status == 0, "\(load.stderr)")
        let rootfs = try CommandResult.run([Self.swiftlet, "image", "rootfs", "--root", store, "swiftlet-test/busybox:latest"])
        #expect(rootfs.status == 0, "\(rootfs.stderr)")
        try FileManager.default.copyItem(atPath: rootfs.stdout.trimmingCharacters(in: .whitespacesAndNewlines), toPath: "\(directory)/rootfs.erofs")
        for (name, size) in [("writable", "64M"), ("volume", "8M")] {
            let disk = "\(directory)/\(name).ext4"
            let made = try CommandResult.run(["sh", "-c", "truncate -s \(size) \(disk) && mkfs.ext4 -q -F \(disk)"])
            #expect(made.status == 0, "\(made.stderr)")
        }
    }

    /// The commands run inside the rig: three VMs, each client's output in DIR/NAME.out,
    /// .err and its status in the script's stdout as "NAME status=N".
    func script(_ directory: String) -> String {
        let images = KVMTestPath.guestImages.path
        return """
            D=\(directory); C=\(Self.client); U=/run/swiftlet-agent-test-$$.sock
            boot() {
                rm -f $U
                disks=(--disk $D/rootfs.erofs,ro --disk $D/writable.ext4)
                [ "$1" = 3 ] && disks+=(--disk $D/volume.ext4)
                \(Self.vmm) --kernel \(images)/vmlinux --initrd \(Self.initramfs) --memory 256M \\
                    --cmdline "\(KernelCommandLine.unattended())" \\
                    "${disks[@]}" --vsock cid=3,uds=$U \\
                    > $D/console-$1.log 2>&1 < /dev/null &
                vmm=$!
            }
            session() {
                name=$1; shift
                "$C" --uds $U --timeout 120 "$@" > $D/$name.out 2> $D/$name.err
                echo "$name status=$?"
            }
            finish() { wait $vmm; echo "vmm-$1 status=$?"; }
            run=(run --hostname box --rootfs /dev/vda --writable /dev/vdb)

            boot 1; session hello "${run[@]}" -- echo hello; finish 1
            boot 2; session missing "${run[@]}" -- nope; finish 2

            boot 3
            "$C" --uds $U --timeout 120 "${run[@]}" --volume /dev/vdc:/data/vol -- sh -c 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 1; done' \\
                > $D/main.out 2> $D/main.err &
            main=$!
            for i in $(seq 600); do grep -q ready $D/main.out && break; sleep 0.2; done
            session exit3 exec -- sh -c 'exit 3'
            session pidone exec -- cat /proc/1/comm
            session user exec -u nobody -- id
            session caps exec -- grep -E '^Cap(Eff|Bnd)' /proc/self/status
            session nobodycaps exec -u nobody -- grep -E '^Cap(Eff|Bnd)' /proc/self/status
            session workdir exec -w /made/by/agent -- pwd
            session env exec -e GREETING=hi -- sh -c 'echo $GREETING $HOME; hostname'
            session stderr exec -- sh -c 'echo to-stderr >&2'
            session ghost exec -u ghost -- true
            session noexec exec -- /etc/passwd
            session baddir exec -w /etc/passwd -- true
            printf 'piped\\n' | session stdin exec -i -- cat
            session big exec -- head -c 3000000 /dev/urandom
            session tty exec -t --size 30x100 -- sh -c 'tty; stty size'
            session persist exec -- sh -c 'echo kept > /root/persist; echo in-volume > /data/vol/file'
            session parallel1 exec -- sh -c 'sleep 1; echo one' & p1=$!
            session parallel2 exec -- sh -c 'sleep 1; echo two' & p2=$!
            wait $p1 $p2
            session zombies exec -- sh -c '(sh -c "exit 0" &); sleep 1; grep -l zombie /proc/[0-9]*/status | wc -l'
            kill -TERM $main
            wait $main; echo "main status=$?"
            finish 3
            echo "persisted=$(debugfs -R 'cat /upper/root/persist' $D/writable.ext4 2>/dev/null)"
            echo "volume=$(debugfs -R 'cat /file' $D/volume.ext4 2>/dev/null)"
            """
    }

    @Test func agentRunsExecsRelaysAndSignalsNeedsKVM() throws {
        guard KVMTestPath.ready(for: "agentRunsExecsRelaysAndSignalsNeedsKVM") else { return }
        guard FileManager.default.fileExists(atPath: Self.initramfs) else {
            KVMTestPath.skip("agentRunsExecsRelaysAndSignalsNeedsKVM", because:
                "\(Self.initramfs) is missing (scripts/test builds it: guest-images/build-container-initramfs --init .build/debug/swiftlet-init)")
            return
        }
        #expect(FileManager.default.isExecutableFile(atPath: Self.client), "build first (swift build)")
        let directory = "/tmp/swiftlet-agent-rig-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try makeDisks(in: directory)
        let scriptPath = "\(directory)/run.sh"
        try script(directory).write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let result = try KVMTestPath.current.run(["/bin/bash", scriptPath])
        func file(_ name: String) -> String { (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? "" }
        let consoles = (1...3).map { "console \($0):\n" + file("console-\($0).log") }.joined(separator: "\n")
        let report = "rig status \(result.status)\n\(result.stdout)\n\(result.stderr)\n\(consoles)"
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        func expectStatus(_ name: String, _ status: Int32) {
            #expect(lines.contains("\(name) status=\(status)"), "\(name): stdout \(file("\(name).out")) stderr \(file("\(name).err"))\n\(report)")
        }
        expectStatus("hello", 0)
        #expect(file("hello.out") == "hello\n")
        expectStatus("missing", 127)
        #expect(file("missing.err") == "swiftlet-agent-client: unable to start container process: exec: \"nope\": executable file not found in $PATH\n")
        expectStatus("exit3", 3)
        expectStatus("pidone", 0)
        #expect(file("pidone.out") == "sh\n", "the main process is PID 1 of the container's pid namespace, which exec joins")
        expectStatus("user", 0)
        #expect(file("user.out") == "uid=65534(nobody) gid=65534(nogroup)\n")
        expectStatus("caps", 0)
        #expect(file("caps.out") == "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n", "root has Docker's default capabilities")
        expectStatus("nobodycaps", 0)
        #expect(file("nobodycaps.out") == "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n")
        expectStatus("workdir", 0)
        #expect(file("workdir.out") == "/made/by/agent\n")
        expectStatus("env", 0)
        #expect(file("env.out") == "hi /root\nbox\n")
        expectStatus("stderr", 0)
        #expect(file("stderr.out").isEmpty && file("stderr.err") == "to-stderr\n")
        expectStatus("ghost", 126)
        #expect(file("ghost.err").contains("unable to find user ghost: no matching entries in passwd file"))
        expectStatus("noexec", 126)
        #expect(file("noexec.err").contains("exec: \"/etc/passwd\": Permission denied"))
        expectStatus("baddir", 126)
        #expect(file("baddir.err").contains("chdir to cwd (\"/etc/passwd\") set in config failed: Not a directory"))
        expectStatus("stdin", 0)
        #expect(file("stdin.out") == "piped\n")
        expectStatus("tty", 0)
        #expect(file("tty.out") == "/dev/pts/0\r\n30 100\r\n")
        expectStatus("main", 7)
        #expect(file("main.out") == "ready\ngot TERM\n")
        expectStatus("big", 0)
        let bigSize = try? FileManager.default.attributesOfItem(atPath: "\(directory)/big.out")[.size] as? Int
        #expect(bigSize == 3_000_000, "3 MB of output arrive whole")
        for vm in 1...3 { expectStatus("vmm-\(vm)", 0) }
        #expect(lines.contains("persisted=kept"), "the writable disk was synced and unmounted\n\(report)")
        #expect(lines.contains("volume=in-volume"), "the volume was mounted, synced and unmounted\n\(report)")
        expectStatus("parallel1", 0)
        expectStatus("parallel2", 0)
        #expect(file("parallel1.out") == "one\n" && file("parallel2.out") == "two\n", "concurrent exec sessions")
        expectStatus("zombies", 0)
        #expect(file("zombies.out") == "0\n", "orphans are reaped by the container's PID 1")
    }
}
