import HostSystem
import AgentProtocol
import CLinux
import Glibc

// swiftlet-agent-client: drives one agent-protocol session by hand or from tests, the
// host side of a container microVM without the container runtime. Connects to a guest's swiftlet-init
// through the VMM's vsock Unix socket (--uds) or the kernel's vhost-vsock (--cid), sends
// `run` or `exec`, relays stdio, forwards SIGINT/SIGTERM/SIGHUP as `signal`, and exits
// with the process's status (or the `failed` status, its message on stderr).

let usage = """
    usage: swiftlet-agent-client (--uds PATH | --cid N) [--timeout SECONDS] run --rootfs DEV --writable DEV
                                 [--hostname H] [--volume DEV:/path[:ro]]... [PROCESS OPTIONS] -- CMD [ARG...]
           swiftlet-agent-client (--uds PATH | --cid N) [--timeout SECONDS] exec [PROCESS OPTIONS] -- CMD [ARG...]
    process options: -e K=V  -w DIR  -u USER  -i (forward stdin)  -t (terminal)  --size ROWSxCOLUMNS
    """

func fail(_ message: String, status: Int32 = 125) -> Never {
    var line = Array("swiftlet-agent-client: \(message)\n".utf8)
    _ = write(2, &line, line.count)
    exit(status)
}

struct Options {
    var uds: String?
    var cid: UInt32?
    var timeout: Int = 30
    var mode = ""
    var setup = ContainerSetup(hostname: "", rootfs: "", writable: "")
    var process = ProcessStart(args: [], env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    var interactive = false
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    func value(_ flag: String) -> String {
        guard let next = rest.popFirst() else { fail("\(flag) needs a value\n\(usage)", status: 2) }
        return next
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--uds": options.uds = value(argument)
        case "--cid":
            guard let cid = UInt32(value(argument)) else { fail("--cid needs a number", status: 2) }
            options.cid = cid
        case "--timeout":
            guard let seconds = Int(value(argument)) else { fail("--timeout needs seconds", status: 2) }
            options.timeout = seconds
        case "run", "exec": options.mode = argument
        case "--rootfs": options.setup.rootfs = value(argument)
        case "--writable": options.setup.writable = value(argument)
        case "--hostname": options.setup.hostname = value(argument)
        case "--volume":
            let parts = value(argument).split(separator: ":").map(String.init)
            guard parts.count == 2 || (parts.count == 3 && parts[2] == "ro") else { fail("--volume takes DEV:/path[:ro]", status: 2) }
            options.setup.volumes.append(VolumeMount(device: parts[0], target: parts[1], readOnly: parts.count == 3))
        case "-e":
            let entry = value(argument)
            let key = entry.prefix { $0 != "=" }
            options.process.env.removeAll { $0.prefix { $0 != "=" } == key }
            options.process.env.append(entry)
        case "-w": options.process.cwd = value(argument)
        case "-u": options.process.user = value(argument)
        case "-i": options.interactive = true
        case "-t": options.process.tty = true
        case "--size":
            let parts = value(argument).split(separator: "x").compactMap { UInt16($0) }
            guard parts.count == 2 else { fail("--size takes ROWSxCOLUMNS", status: 2) }
            options.process.rows = parts[0]
            options.process.columns = parts[1]
        case "--":
            options.process.args = Array(rest)
            rest = []
        default: fail("unknown argument '\(argument)'\n\(usage)", status: 2)
        }
    }
    guard options.mode == "run" || options.mode == "exec", !options.process.args.isEmpty,
          (options.uds == nil) != (options.cid == nil) else { fail(usage, status: 2) }
    return options
}

/// Connects through vhost-vsock, retrying until the guest listens or the timeout passes.
func connectVsock(cid: UInt32, timeout: Int) -> Int32 {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(timeout))
    while true {
        let fd = sa_vsock_connect(cid, AgentProtocol.agentPort)
        if fd >= 0 { return fd }
        let error = errno
        if clock.now >= deadline {
            fail("cannot reach the guest agent at vsock \(cid):\(AgentProtocol.agentPort): \(String(cString: strerror(error)))")
        }
        usleep(20_000)
    }
}

var blocked = sigset_t()
sigemptyset(&blocked)
for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&blocked, signal) }
pthread_sigmask(SIG_BLOCK, &blocked, nil)
signal(SIGPIPE, SIG_IGN)

let options = parse(Array(CommandLine.arguments.dropFirst()))
let fd: Int32
if let uds = options.uds {
    do {
        fd = try VsockUnixConnector.connect(udsPath: uds, port: AgentProtocol.agentPort, timeout: .seconds(options.timeout))
    } catch {
        fail(error.message)
    }
} else {
    fd = connectVsock(cid: options.cid!, timeout: options.timeout)
}
let channel = AgentChannel(fd: fd)

func sendOrFail(_ message: AgentMessage) {
    do { try channel.send(message) } catch { fail(error.message) }
}

func startThread(_ body: @escaping @Sendable () -> Void) {
    do { try PosixThread.detached(body) } catch { fail("cannot start a thread: \(error)") }
}

sendOrFail(.hello(version: AgentProtocol.version))
sendOrFail(options.mode == "run" ? .run(options.setup, options.process) : .exec(options.process))

startThread {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, signal) }
    while true {
        var number: Int32 = 0
        if sigwait(&set, &number) == 0 { try? channel.send(.signal(number)) }
    }
}
if options.interactive {
    startThread {
        var buffer = [UInt8](repeating: 0, count: AgentProtocol.maxChunk)
        while true {
            let count = read(0, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            try? channel.send(.stdin(Array(buffer[0..<count])))
        }
        try? channel.send(.closeStdin)
    }
} else {
    sendOrFail(.closeStdin)
}

func writeOut(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}

while true {
    let message: AgentMessage?
    do { message = try channel.receive() } catch { fail(error.message) }
    switch message {
    case nil: fail("the guest agent closed the session without an exit status")
    case .hello(let version)?:
        if version != AgentProtocol.version { fail("the guest agent speaks protocol version \(version)") }
    case .started?: break
    case .stdout(let bytes)?: writeOut(1, bytes)
    case .stderr(let bytes)?: writeOut(2, bytes)
    case .failed(let status, let message)?:
        channel.close()
        fail(message, status: status)
    case .exited(let status)?:
        channel.close()
        exit(status)
    case let other?: fail("unexpected kind \(other.kind) message from the guest")
    }
}
