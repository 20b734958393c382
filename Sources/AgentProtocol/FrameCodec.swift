import HostSystem

/// The frame format of the agent protocol: `u32 LE body length` + body, body = `u8 kind`
/// + payload. Payload fields: integers little-endian, String = u32 byte count + UTF-8,
/// [String] = u32 count + strings, Bool = u8 0/1, bytes = u32 count + raw bytes,
/// optional = Bool present + value.
extension AgentMessage {
    /// The whole frame, length prefix included. A body over
    /// `AgentProtocol.maxBodyLength` is refused by the receiver (`AgentChannel.send`
    /// checks before writing); senders split stdio into `AgentProtocol.maxChunk` pieces.
    public func encode() -> [UInt8] {
        var body = FrameWriter()
        body.u8(kind)
        switch self {
        case .hello(let version): body.u16(version)
        case .run(let setup, let process):
            body.string(setup.hostname)
            body.string(setup.rootfs)
            body.string(setup.writable)
            body.u32(UInt32(setup.volumes.count))
            for volume in setup.volumes {
                body.string(volume.device)
                body.string(volume.target)
                body.bool(volume.readOnly)
            }
            body.bool(setup.network != nil)
            if let network = setup.network {
                body.string(network.name)
                body.string(network.address)
                body.u8(network.prefix)
                body.string(network.gateway)
                body.string(network.resolvConf)
            }
            body.strings(setup.confinement.maskedPaths)
            body.strings(setup.confinement.readonlyPaths)
            body.bool(setup.confinement.readOnlyRootfs)
            body.bool(setup.writableSysfs)
            body.u32(UInt32(setup.tmpfs.count))
            for mount in setup.tmpfs {
                body.string(mount.target)
                body.u64(mount.flags)
                body.string(mount.data)
            }
            body.u32(UInt32(setup.sysctls.count))
            for sysctl in setup.sysctls {
                body.string(sysctl.path)
                body.string(sysctl.value)
            }
            body.process(process)
        case .exec(let process): body.process(process)
        case .started(let pid): body.i32(pid)
        case .failed(let status, let message):
            body.i32(status)
            body.string(message)
        case .stdin(let bytes), .stdout(let bytes), .stderr(let bytes): body.bytes(bytes)
        case .closeStdin: break
        case .signal(let number): body.i32(number)
        case .resize(let rows, let columns):
            body.u16(rows)
            body.u16(columns)
        case .exited(let status): body.i32(status)
        }
        var frame = FrameWriter()
        frame.u32(UInt32(body.bytes.count))
        frame.bytes.append(contentsOf: body.bytes)
        return frame.bytes
    }

    /// Decodes one frame body (kind + payload, without the length prefix); the payload
    /// must be consumed exactly.
    public static func decode(body: ArraySlice<UInt8>) throws(SwiftletError) -> AgentMessage {
        var reader = FrameReader(body)
        let kind = try reader.u8("kind")
        let message: AgentMessage
        switch kind {
        case 1: message = .hello(version: try reader.u16("hello version"))
        case 2:
            let hostname = try reader.string("run hostname")
            let rootfs = try reader.string("run rootfs")
            let writable = try reader.string("run writable")
            let count = try reader.count("run volume count", minimumElementSize: 9)
            var volumes: [VolumeMount] = []
            for _ in 0..<count {
                volumes.append(VolumeMount(device: try reader.string("volume device"),
                                           target: try reader.string("volume target"),
                                           readOnly: try reader.bool("volume readOnly")))
            }
            var network: InterfaceSetup?
            if try reader.bool("run network present") {
                network = InterfaceSetup(name: try reader.string("network name"), address: try reader.string("network address"),
                                         prefix: try reader.u8("network prefix"), gateway: try reader.string("network gateway"),
                                         resolvConf: try reader.string("network resolv.conf"))
            }
            let confinement = RootConfinement(maskedPaths: try reader.strings("run masked paths"),
                                              readonlyPaths: try reader.strings("run read-only paths"),
                                              readOnlyRootfs: try reader.bool("run read-only root"))
            let writableSysfs = try reader.bool("run writable sysfs")
            var tmpfs: [TmpfsSetup] = []
            for _ in 0..<(try reader.count("run tmpfs count", minimumElementSize: 16)) {
                tmpfs.append(TmpfsSetup(target: try reader.string("tmpfs target"), flags: try reader.u64("tmpfs flags"),
                                        data: try reader.string("tmpfs data")))
            }
            var sysctls: [SysctlSetup] = []
            for _ in 0..<(try reader.count("run sysctl count", minimumElementSize: 8)) {
                sysctls.append(SysctlSetup(path: try reader.string("sysctl path"), value: try reader.string("sysctl value")))
            }
            let setup = ContainerSetup(hostname: hostname, rootfs: rootfs, writable: writable, volumes: volumes,
                                       network: network, confinement: confinement, writableSysfs: writableSysfs,
                                       tmpfs: tmpfs, sysctls: sysctls)
            message = .run(setup, try reader.process("run"))
        case 3: message = .exec(try reader.process("exec"))
        case 4: message = .started(pid: try reader.i32("started pid"))
        case 5: message = .failed(status: try reader.i32("failed status"), message: try reader.string("failed message"))
        case 6: message = .stdin(try reader.bytes("stdin"))
        case 7: message = .closeStdin
        case 8: message = .stdout(try reader.bytes("stdout"))
        case 9: message = .stderr(try reader.bytes("stderr"))
        case 10: message = .signal(try reader.i32("signal number"))
        case 11: message = .resize(rows: try reader.u16("resize rows"), columns: try reader.u16("resize columns"))
        case 12: message = .exited(status: try reader.i32("exited status"))
        default: throw SwiftletError("agent protocol: unknown message kind \(kind)")
        }
        guard reader.remaining == 0 else {
            throw SwiftletError("agent protocol: \(reader.remaining) unexpected trailing bytes in a kind \(kind) message")
        }
        return message
    }
}

/// Splits a byte stream into agent messages: append what was read, then take complete
/// messages until `next()` returns nil (more bytes needed). A frame length over
/// `AgentProtocol.maxBodyLength`, a zero length, an unknown kind or a malformed payload
/// throws; the stream cannot be resynchronised after that.
public struct AgentFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes received but not yet returned as a message.
    public var pendingByteCount: Int { buffer.count - start }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil when the buffer holds only part of a frame.
    public mutating func next() throws(SwiftletError) -> AgentMessage? {
        guard pendingByteCount >= 4 else { return nil }
        let length = Int(buffer[start]) | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 24
        guard length > 0 else { throw SwiftletError("agent protocol: empty frame (no message kind)") }
        guard length <= AgentProtocol.maxBodyLength else {
            throw SwiftletError("agent protocol: frame of \(length) bytes exceeds the \(AgentProtocol.maxBodyLength)-byte limit")
        }
        guard pendingByteCount >= 4 + length else { return nil }
        let body = buffer[(start + 4)..<(start + 4 + length)]
        start += 4 + length
        return try AgentMessage.decode(body: body)
    }
}

private struct FrameWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { bytes.append(UInt8(truncatingIfNeeded: value)); bytes.append(UInt8(value >> 8)) }
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func bytes(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    mutating func string(_ value: String) { bytes(Array(value.utf8)) }
    mutating func strings(_ value: [String]) {
        u32(UInt32(value.count))
        value.forEach { string($0) }
    }
    mutating func process(_ process: ProcessStart) {
        strings(process.args)
        strings(process.env)
        string(process.cwd)
        string(process.user)
        bool(process.tty)
        u16(process.rows)
        u16(process.columns)
        u64(process.confinement.capabilities)
        bool(process.confinement.noNewPrivileges)
        bytes(process.confinement.seccompFilter)
    }
}

private struct FrameReader {
    let body: ArraySlice<UInt8>
    var offset: Int

    init(_ body: ArraySlice<UInt8>) {
        self.body = body
        offset = body.startIndex
    }

    var remaining: Int { body.endIndex - offset }

    mutating func take(_ count: Int, _ field: String) throws(SwiftletError) -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw SwiftletError("agent protocol: truncated message: \(field) needs \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return body[offset..<(offset + count)]
    }

    mutating func u8(_ field: String) throws(SwiftletError) -> UInt8 { try take(1, field).first! }
    mutating func u16(_ field: String) throws(SwiftletError) -> UInt16 {
        let b = try take(2, field)
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }
    mutating func u32(_ field: String) throws(SwiftletError) -> UInt32 {
        let b = try take(4, field)
        return b.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
    mutating func u64(_ field: String) throws(SwiftletError) -> UInt64 {
        try take(8, field).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
    mutating func i32(_ field: String) throws(SwiftletError) -> Int32 { Int32(bitPattern: try u32(field)) }
    mutating func bool(_ field: String) throws(SwiftletError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let other: throw SwiftletError("agent protocol: \(field) is \(other), not a boolean 0/1")
        }
    }
    /// A u32 element count, refused when that many elements cannot fit in what is left.
    mutating func count(_ field: String, minimumElementSize: Int) throws(SwiftletError) -> Int {
        let count = Int(try u32(field))
        guard count * minimumElementSize <= remaining else {
            throw SwiftletError("agent protocol: truncated message: \(field) \(count) does not fit in \(remaining) bytes")
        }
        return count
    }
    mutating func bytes(_ field: String) throws(SwiftletError) -> [UInt8] {
        Array(try take(count(field, minimumElementSize: 1), field))
    }
    mutating func string(_ field: String) throws(SwiftletError) -> String {
        let raw = try bytes(field)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw SwiftletError("agent protocol: \(field) is not valid UTF-8")
        }
        return text
    }
    mutating func strings(_ field: String) throws(SwiftletError) -> [String] {
        let count = try count(field, minimumElementSize: 4)
        var result: [String] = []
        for _ in 0..<count { result.append(try string(field)) }
        return result
    }
    mutating func process(_ context: String) throws(SwiftletError) -> ProcessStart {
        ProcessStart(args: try strings("\(context) args"), env: try strings("\(context) env"),
                     cwd: try string("\(context) cwd"), user: try string("\(context) user"),
                     tty: try bool("\(context) tty"), rows: try u16("\(context) rows"),
                     columns: try u16("\(context) columns"),
                     confinement: ProcessConfinement(capabilities: try u64("\(context) capabilities"),
                                                     noNewPrivileges: try bool("\(context) no_new_privs"),
                                                     seccompFilter: try bytes("\(context) seccomp filter")))
    }
}
