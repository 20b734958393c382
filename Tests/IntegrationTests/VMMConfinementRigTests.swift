import Foundation
import Testing
import VMLaunch

/// swiftlet-vmm's confinement with a Linux guest (on hardware KVM, or inside
/// scripts/kvm-rig): once the Debian cloud kernel has reached /init (virtio-mmio and
/// vsock drivers loaded, so the guest has driven the devices under the filters), the VMM
/// that `swiftlet boot` became runs with a seccomp filter on every thread, a non-zero uid,
/// no_new_privs, and a root holding only its vsock socket's directory.
@Suite struct VMMConfinementRigTests {
    static let swiftlet = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet").path

    @Test func linuxGuestRunsUnderAJailedFilteredVMMNeedsKVM() throws {
        guard KVMTestPath.ready(for: "linuxGuestRunsUnderAJailedFilteredVMMNeedsKVM") else { return }
        let images = KVMTestPath.guestImages.path
        let jail = "/dev/shm/swiftlet-vmm-jail"
        let script = """
            d=\(jail); rm -rf $d; mkdir -p $d
            tail -f /dev/null | \(Self.swiftlet) boot --kernel \(images)/vmlinuz --initrd \(images)/initramfs.cpio.gz --memory 256M \
              --cpus 2 --vsock cid=3,uds=$d/v.sock --cmdline '\(KernelCommandLine.unattended(initArguments: ["sleep", "600"]))' \
              > /dev/shm/swiftlet-vmm-console 2>&1 &
            pid=$!
            i=0; until grep -q '/init reached' /dev/shm/swiftlet-vmm-console || [ $i -ge 600 ]; do sleep 1; i=$((i+1)); done
            echo "== status"; grep -E '^(Uid|Seccomp|NoNewPrivs):' /proc/$pid/status
            echo "== threads"; for t in /proc/$pid/task/*; do grep Seccomp: $t/status; done
            echo "== root"; (cd /proc/$pid/root && find . | sort)
            kill $pid; wait $pid; echo "== exit $?"; pkill -f 'tail -f /dev/null' ; tail -5 /dev/shm/swiftlet-vmm-console
            """
        let result = try KVMTestPath.current.run(["sh", "-c", script])
        let output = result.stdout
        let section = { (name: String) -> [Substring] in
            output.components(separatedBy: "== \(name)\n").dropFirst().first?.split(separator: "\n")
                .prefix { !$0.hasPrefix("== ") } ?? []
        }
        let status = section("status")
        #expect(status.contains("Seccomp:\t2"), "output: \(output)\nstderr: \(result.stderr)")
        #expect(status.contains("NoNewPrivs:\t1"))
        #expect(status.contains { $0.hasPrefix("Uid:") } && !status.contains { $0.hasPrefix("Uid:\t0\t") }, "\(status)")
        let threads = section("threads")
        #expect(threads.count == 5 && threads.allSatisfy { $0 == "Seccomp:\t2" }, "\(threads)")
        #expect(section("root") == [".", "./dev", "./dev/shm", "./dev/shm/swiftlet-vmm-jail", "./dev/shm/swiftlet-vmm-jail/v.sock"])
        #expect(output.contains("== exit 143"), "output: \(output)")
    }
}
