import Foundation
import Testing
import VMLaunch

/// The streaming devices, in one boot (each rig run costs ~20 s):
/// the Debian cloud kernel with the project's initramfs under `swiftlet boot`, with a
/// virtio-net interface on a host TAP and a virtio-vsock device.
/// - net: ping, then 100 MiB over TCP guest → host and 100 MiB host → guest, each
///   checksummed on both ends;
/// - vsock: a 10 MiB echo started by the guest (CID 2 port 5001 → the host's Unix
///   socket `<uds>_5001`, which echoes) and a 10 MiB echo started by the host
///   (`CONNECT 5000` on `<uds>`, echoed by `vsock-tool listen 5000` in the guest),
///   checksummed on both ends; then 16 concurrent host-initiated sessions of 64 KiB
///   each, echoed by `vsock-tool listen -k 5003 cat`.
/// Needs root for the TAP (the rig is root).
@Suite(.serialized) struct TransferRigTests {
    static let netSize = 100 << 20
    static let vsockSize = 10 << 20

    /// The host side, run beside the VM: TCP sink and source on the TAP address, the
    /// vsock echo server, then the concurrent sessions and the host-initiated vsock echo
    /// (retrying CONNECT until the guest listens). Prints one result line per transfer.
    static let hostScript = """
        import hashlib, os, socket, sys, threading, time
        uds, net_size, vsock_size, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        def pattern(word, size): return ((word + "\\n").encode() * (size // (len(word) + 1) + 1))[:size]
        def listener(family, address):
            s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(address); s.listen(1); s.settimeout(600)
            # The jailed VMM (its own unprivileged uid) connects to host vsock ports' sockets.
            if family == socket.AF_UNIX: os.chmod(address, 0o777)
            return s
        def drain(conn, echo=False):
            h, n = hashlib.sha256(), 0
            while True:
                d = conn.recv(1 << 20)
                if not d: return n, h.hexdigest()
                h.update(d); n += len(d)
                if echo: conn.sendall(d)
        def tcp_sink(server):
            n, sha = drain(server.accept()[0])
            print(f"host-tcp-received={n} sha={sha}", flush=True)
        def vsock_echo(server):
            conn = server.accept()[0]
            n, sha = drain(conn, echo=True)
            conn.shutdown(socket.SHUT_WR)
            print(f"host-vsock-echoed={n} sha={sha}", flush=True)
        def connect_guest(port, deadline):
            while time.time() < deadline:
                c = socket.socket(socket.AF_UNIX)
                try:
                    c.connect(uds); c.sendall(f"CONNECT {port}\\n".encode()); line = b""
                    while not line.endswith(b"\\n"):
                        d = c.recv(1)
                        if not d: break
                        line += d
                    if line.startswith(b"OK "): return c
                except OSError: pass
                c.close(); time.sleep(0.2)
            raise SystemExit("the guest never listened on vsock port 5000")
        def session(index, ok):
            c = connect_guest(5003, time.time() + 600)
            data = pattern(f"session-{index}", 65536)
            c.sendall(data); c.shutdown(socket.SHUT_WR)
            ok[index] = drain(c) == (len(data), hashlib.sha256(data).hexdigest())
        def tcp_source_then_vsock_clients(server):
            conn = server.accept()[0]
            conn.sendall(pattern("swiftlet-net", net_size)); conn.close()
            ok = {}
            sessions = [threading.Thread(target=session, args=(i, ok)) for i in range(16)]
            for t in sessions: t.start()
            for t in sessions: t.join()
            print(f"host-vsock-sessions-ok={sum(ok.values())}/16", flush=True)
            c = connect_guest(5000, time.time() + 600)
            sender = threading.Thread(target=lambda: (c.sendall(pattern("swiftlet-vsock", vsock_size)), c.shutdown(socket.SHUT_WR)))
            sender.start(); n, sha = drain(c); sender.join()
            print(f"host-vsock-back={n} sha={sha}", flush=True)
        jobs = [(tcp_sink, listener(socket.AF_INET, ("169.254.77.1", 5000))),
                (vsock_echo, listener(socket.AF_UNIX, uds + "_5001")),
                (tcp_source_then_vsock_clients, listener(socket.AF_INET, ("169.254.77.1", 5002)))]
        threads = [threading.Thread(target=job, args=(server,)) for job, server in jobs]
        for t in threads: t.start()
        open(ready, "w").close()
        for t in threads: t.join()
        """

    /// The guest side, read by `sh` from a small read-only disk (the kernel command line
    /// is too short for it).
    static let guestScript = """
        exec > /dev/hvc0 2>&1
        vsock-tool listen -k 5003 cat & sessions=$!
        ip addr add 169.254.77.2/24 dev eth0; ip link set eth0 up
        ping -c 3 169.254.77.1
        yes swiftlet-net | head -c \(netSize) | nc 169.254.77.1 5000; echo nc-send-status=$?
        echo guest-tcp-received=$(nc 169.254.77.1 5002 < /dev/null | sha256sum)
        vsock-tool listen 5000 sh -c 'tee /tmp/vsock-in' & listener=$!
        echo guest-vsock-echo=$(yes swiftlet-vsock | head -c \(vsockSize) | vsock-tool connect 2 5001 | sha256sum)
        wait $listener; kill $sessions
        echo guest-vsock-in=$(sha256sum < /tmp/vsock-in)
        """

    func sha256(_ shell: String) throws -> String {
        String(try CommandResult.run(["sh", "-c", shell + " | sha256sum"]).stdout.prefix(64))
    }

    @Test func tcpBothWaysAndVsockEchoBothWaysNeedsKVM() throws {
        guard KVMTestPath.ready(for: "tcpBothWaysAndVsockEchoBothWaysNeedsKVM") else { return }
        if case .direct = KVMTestPath.current, getuid() != 0 {
            KVMTestPath.skip("tcpBothWaysAndVsockEchoBothWaysNeedsKVM", because: "creating a TAP device needs root")
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-transfer-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let host = work.appendingPathComponent("host.py").path
        try Self.hostScript.write(toFile: host, atomically: true, encoding: .utf8)
        // sh reads the script from /dev/vda: pad it to whole sectors with newlines.
        var script = Data((Self.guestScript + "\n").utf8)
        script.append(Data(repeating: 0x0A, count: (512 - script.count % 512) % 512))
        let disk = work.appendingPathComponent("guest.sh.img").path
        try script.write(to: URL(fileURLWithPath: disk))

        let images = KVMTestPath.guestImages.path
        let swiftlet = KVMTestPath.repositoryRoot.appendingPathComponent(".build/debug/swiftlet").path
        // The Unix sockets live on tmpfs: the rig's 9p /tmp refuses special files.
        let shell = """
            uds=/dev/shm/swiftlet-vsock-$$; ready=$uds.ready
            ip tuntap add dev swnet1 mode tap && ip addr add 169.254.77.1/24 dev swnet1 && ip link set swnet1 up || exit 125
            /usr/bin/python3 \(host) $uds \(Self.netSize) \(Self.vsockSize) $ready &
            while [ ! -e $ready ]; do sleep 0.2; done
            \(swiftlet) boot --kernel \(images)/vmlinuz --initrd \(images)/initramfs.cpio.gz --memory 256M --console virtio \
                --disk \(disk),ro --net tap=swnet1,mac=06:00:ac:10:00:07 --vsock cid=3,uds=$uds \
                --cmdline '\(KernelCommandLine(console: .virtio, panicTimeout: -1, initArguments: ["sh", "/dev/vda"]))'
            status=$?
            wait; ip link del swnet1; rm -f $uds ${uds}_* $ready; exit $status
            """
        let result = try KVMTestPath.current.run(["sh", "-c", shell])
        let output = result.stdout
        #expect(result.status == 0, "stderr: \(result.stderr)\nconsole: \(output)")
        #expect(output.contains("3 packets transmitted, 3 packets received"), "console: \(output)")
        let net = try sha256("yes swiftlet-net | head -c \(Self.netSize)")
        #expect(output.contains("nc-send-status=0"))
        #expect(output.contains("host-tcp-received=\(Self.netSize) sha=\(net)"), "guest → host TCP; console: \(output)")
        #expect(output.contains("guest-tcp-received=\(net)"), "host → guest TCP")
        let vsock = try sha256("yes swiftlet-vsock | head -c \(Self.vsockSize)")
        #expect(output.contains("host-vsock-echoed=\(Self.vsockSize) sha=\(vsock)"), "guest → host vsock reached the host")
        #expect(output.contains("guest-vsock-echo=\(vsock)"), "and came back to the guest")
        #expect(output.contains("guest-vsock-in=\(vsock)"), "host → guest vsock reached the guest")
        #expect(output.contains("host-vsock-back=\(Self.vsockSize) sha=\(vsock)"), "and came back to the host")
        #expect(output.contains("host-vsock-sessions-ok=16/16"), "16 concurrent host-initiated echo sessions")
    }
}
