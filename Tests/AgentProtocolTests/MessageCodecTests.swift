@testable import AgentProtocol
import HostSystem
import Testing

/// The frame format: every message round-trips; malformed frames are refused with a
/// message saying what is wrong.
@Suite struct MessageCodecTests {
    static let process = ProcessStart(args: ["sh", "-c", "echo héllo"], env: ["PATH=/bin", "A=b=c"], cwd: "/work",
                                      user: "app:staff", tty: true, rows: 24, columns: 80)
    static let setup = ContainerSetup(hostname: "box", rootfs: "/dev/vda", writable: "/dev/vdb",
                                      volumes: [VolumeMount(device: "/dev/vdc", target: "/data", readOnly: false),
                                                VolumeMount(device: "/dev/vdd", target: "/ro", readOnly: true)])
    static let networked = ContainerSetup(hostname: "web", rootfs: "/dev/vda", writable: "/dev/vdb",
                                          network: InterfaceSetup(name: "eth0", address: "10.88.0.2", prefix: 16,
                                                                  gateway: "10.88.0.1", resolvConf: "nameserver 10.88.0.1\n"))
    static let confined = ContainerSetup(hostname: "ro", rootfs: "/dev/vda", writable: "/dev/vdb",
                                         confinement: .docker(privileged: false, readOnlyRootfs: true), writableSysfs: true,
                                         tmpfs: [TmpfsSetup(target: "/run", flags: 0x0e, data: "size=1m")],
                                         sysctls: [SysctlSetup(path: "/proc/sys/net/ipv4/ip_forward", value: "1")])
    static let confinedProcess = ProcessStart(args: ["id"], confinement: ProcessConfinement(
        capabilities: Capabilities.all.mask, noNewPrivileges: true, seccompFilter: [6, 0, 0, 0, 0, 0, 0xff, 0x7f]))
    static let every: [AgentMessage] = [
        .run(confined, confinedProcess), .exec(confinedProcess),
        .hello(version: 1), .run(setup, process), .run(networked, process), .run(ContainerSetup(hostname: "", rootfs: "", writable: ""), ProcessStart(args: [])),
        .exec(process), .started(pid: 42), .failed(status: 127, message: "exec: \"nope\": executable file not found in $PATH"),
        .stdin([0, 1, 255]), .stdin([]), .closeStdin, .stdout(Array("hello\n".utf8)), .stderr([7]), .signal(15),
        .resize(rows: 50, columns: 132), .exited(status: -1), .exited(status: 137),
    ]

    func decodeAll(_ bytes: [UInt8]) throws(SwiftletError) -> [AgentMessage] {
        var decoder = AgentFrameDecoder()
        decoder.append(bytes)
        var messages: [AgentMessage] = []
        while let message = try decoder.next() { messages.append(message) }
        return messages
    }

    func expectError(_ bytes: [UInt8], containing text: String) {
        do throws(SwiftletError) {
            let messages = try decodeAll(bytes)
            Issue.record("decoded \(messages) from a malformed frame")
        } catch {
            #expect(error.message.contains(text), "\(error.message)")
        }
    }

    @Test func everyMessageRoundTrips() throws {
        for message in Self.every {
            #expect(try decodeAll(message.encode()) == [message])
        }
    }

    @Test func streamSplitAtEveryByteDecodesTheSameMessages() throws {
        let stream = Self.every.flatMap { $0.encode() }
        var decoder = AgentFrameDecoder()
        var messages: [AgentMessage] = []
        for byte in stream {
            decoder.append([byte])
            while let message = try decoder.next() { messages.append(message) }
        }
        #expect(messages == Self.every)
        #expect(decoder.pendingByteCount == 0)
    }

    @Test func wireLayoutIsLittleEndianLengthKindPayload() {
        #expect(AgentMessage.hello(version: 1).encode() == [3, 0, 0, 0, 1, 1, 0])
        #expect(AgentMessage.exited(status: 3).encode() == [5, 0, 0, 0, 12, 3, 0, 0, 0])
        #expect(AgentMessage.stdout([0x41]).encode() == [6, 0, 0, 0, 8, 1, 0, 0, 0, 0x41])
        #expect(AgentMessage.resize(rows: 0x102, columns: 3).encode() == [5, 0, 0, 0, 11, 2, 1, 3, 0])
    }

    @Test func runCarriesTheNetworkAfterTheVolumes() {
        let empty = AgentMessage.run(ContainerSetup(hostname: "", rootfs: "", writable: ""), ProcessStart(args: [])).encode()
        let withNetwork = AgentMessage.run(ContainerSetup(hostname: "", rootfs: "", writable: "",
                                                          network: InterfaceSetup(name: "e", address: "1.2.3.4", prefix: 24, gateway: "1.2.3.1")),
                                           ProcessStart(args: [])).encode()
        // length, kind 2, three empty strings, zero volumes: then the network's presence.
        let networkOffset = 4 + 1 + 4 * 3 + 4
        #expect(empty[networkOffset] == 0)
        #expect(withNetwork[networkOffset] == 1)
        let fields = Array(withNetwork[(networkOffset + 1)...].prefix(4 + 1 + 4 + 7 + 1 + 4 + 7))
        #expect(fields == [1, 0, 0, 0] + Array("e".utf8) + [7, 0, 0, 0] + Array("1.2.3.4".utf8) + [24]
                + [7, 0, 0, 0] + Array("1.2.3.1".utf8))
        var bad = empty
        bad[networkOffset] = 2
        expectError(bad, containing: "run network present is 2")
    }

    @Test func partialFrameWaitsForMoreBytes() throws {
        let frame = AgentMessage.failed(status: 125, message: "x").encode()
        #expect(try decodeAll(Array(frame.dropLast())) == [])
    }

    @Test func truncatedPayloadIsRefused() {
        // A frame whose declared body is complete but whose payload is cut short.
        expectError([2, 0, 0, 0, 12, 3], containing: "truncated message: exited status")
        expectError([5, 0, 0, 0, 8, 9, 0, 0, 0], containing: "truncated message: stdout")
        var run = AgentMessage.run(Self.setup, Self.process).encode()
        run.removeLast(2)
        run[0] -= 2
        expectError(run, containing: "truncated message: run seccomp filter")
    }

    @Test func oversizedFrameIsRefused() {
        let length = UInt32(AgentProtocol.maxBodyLength + 1)
        expectError([UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), 0],
                    containing: "exceeds the 1048576-byte limit")
        expectError([0, 0, 0, 0], containing: "empty frame")
    }

    @Test func unknownKindAndTrailingBytesAreRefused() {
        expectError([1, 0, 0, 0, 99], containing: "unknown message kind 99")
        expectError([1, 0, 0, 0, 0], containing: "unknown message kind 0")
        expectError([2, 0, 0, 0, 7, 0], containing: "1 unexpected trailing bytes in a kind 7 message")
    }

    @Test func badBooleanAndUTF8AreRefused() {
        var exec = AgentMessage.exec(ProcessStart(args: [], cwd: "", user: "")).encode()
        exec[4 + 1 + 4 + 4 + 4 + 4] = 2  // the tty byte
        expectError(exec, containing: "exec tty is 2")
        expectError([10, 0, 0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0xFF], containing: "failed message is not valid UTF-8")
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        // args count 0xFFFFFFFF in a tiny exec frame.
        expectError([5, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF], containing: "exec args 4294967295 does not fit")
    }
}

/// The /etc files both backends write, as Docker's.
@Suite struct ContainerEtcFilesTests {
    @Test func hostsListsLocalhostThenTheContainer() {
        let hosts = ContainerEtcFiles.hosts(hostname: "web", address: "10.88.0.5")
        let lines = hosts.split(separator: "\n").map(String.init)
        #expect(lines.first == "127.0.0.1\tlocalhost")
        #expect(lines.contains("::1\tlocalhost ip6-localhost ip6-loopback"))
        #expect(lines.last == "10.88.0.5\tweb")
        #expect(hosts.hasSuffix("\n"))
        #expect(!ContainerEtcFiles.hosts(hostname: "web", address: nil).contains("web"))
        #expect(ContainerEtcFiles.hostname("web") == "web\n")
    }
}
