import CLinux
import Foundation
import HostSystem
import NIOCore
import Runtime
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The exec instances made with `POST /containers/{id}/exec` (kept in memory, as moby
/// does): what to run where, and once started whether it runs and how it ended. Running
/// one pipes its stdout and stderr to the hijacked connection, in `stdcopy` frames.
public final class ExecSessions: Sendable {
    public struct Instance: Sendable {
        public let id: String
        public let containerID: String
        public let options: ExecOptions
        public var started = false
        public var running = false
        public var exitCode: Int32?
    }

    private let instances = Mutex<[String: Instance]>([:])

    public init() {}

    public func create(container: String, options: ExecOptions) -> String {
        let id = HostIdentity.randomID()
        instances.withLock { $0[id] = Instance(id: id, containerID: container, options: options) }
        return id
    }

    public func instance(_ id: String) throws -> Instance {
        guard let instance = instances.withLock({ $0[id] }) else {
            throw SwiftletError("No such exec instance: \(id)", code: .notFound)
        }
        return instance
    }

    /// Marks the instance started; a second start is a conflict, as moby's.
    func begin(_ id: String) throws -> Instance {
        try instances.withLock { instances throws(SwiftletError) -> Instance in
            guard var instance = instances[id] else { throw SwiftletError("No such exec instance: \(id)", code: .notFound) }
            guard !instance.started else { throw SwiftletError("Error: Exec command \(id) has already run", code: .conflict) }
            instance.started = true
            instance.running = true
            instances[id] = instance
            return instance
        }
    }

    /// The started instances' processes, for `resize`.
    private let processes = Mutex<[String: any ContainerProcess]>([:])

    /// Passes a window size to a started instance's terminal.
    func resize(_ id: String, to size: winsize) throws {
        let instance = try instance(id)
        guard instance.options.tty else { throw SwiftletError("exec \(id) has no TTY", code: .invalidArgument) }
        guard let process = processes.withLock({ $0[id] }) else {
            throw SwiftletError("exec \(id) is not running", code: .conflict)
        }
        process.resize(size)
    }

    /// Runs a started instance to its end on the calling thread; its output goes to
    /// `channel` (when attached) as frames (raw with a TTY), what the client sends
    /// (`input`) to its stdin or terminal, and its exit code is recorded before the caller
    /// closes the connection (the client reads it right after).
    func run(_ instance: Instance, engine: Engine, channel: (any Channel)?, input: HijackedInput? = nil) {
        var code: Int32 = 126
        let tty = instance.options.tty
        do {
            var output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1], stdin: [Int32] = [-1, -1]
            guard sl_pipe_cloexec(&output) == 0 else { throw SwiftletError.last("pipe2") }
            guard sl_pipe_cloexec(&errors) == 0 else {
                close(output[0]); close(output[1])
                throw SwiftletError.last("pipe2")
            }
            if input == nil || sl_pipe_cloexec(&stdin) != 0 {
                stdin = [open("/dev/null", O_RDONLY | O_CLOEXEC), -1]
            }
            let process: any ContainerProcess
            do {
                defer { [output[1], errors[1], stdin[0]].forEach { close($0) } }
                process = try engine.runtime.startExec(instance.containerID, instance.options,
                                                       stdio: [stdin[0], output[1], errors[1]], terminalSize: nil)
            } catch {
                [output[0], errors[0], stdin[1]].filter { $0 >= 0 }.forEach { close($0) }
                throw error
            }
            processes.withLock { $0[instance.id] = process }
            defer { processes.withLock { $0[instance.id] = nil } }
            // A namespace exec's terminal is the host's: output comes from its master.
            let terminal = process.terminal.map { SharedDescriptor(dup($0)) }
            var sources = [(output[0], Int32(1)), (errors[0], Int32(2))]
            if let master = process.terminal { sources.append((dup(master), 1)) }
            let pumps = try sources.map { fd, stream in
                try PosixThread { Self.pump(fd, stream: stream, raw: tty, to: channel) }
            }
            if let input {
                let target = terminal ?? SharedDescriptor(stdin[1])
                try PosixThread.detached {
                    input.drain { target.write($0) }
                    if terminal == nil { target.close() }
                }
            }
            code = process.wait()
            terminal?.close()
            if let master = process.terminal { close(master) }
            pumps.forEach { $0.join() }
        } catch {
            let message = Array("\((error as? SwiftletError)?.description ?? "\(error)")\n".utf8)
            if let channel { _ = try? channel.writeAndFlush(ContainerOutputRoutes.frame(message, stream: 2, raw: tty)).wait() }
            code = (error as? SwiftletError)?.code.exitStatus ?? 126
        }
        instances.withLock {
            $0[instance.id]?.running = false
            $0[instance.id]?.exitCode = code
        }
    }

    /// Copies `fd` until end of file (or EIO, a terminal whose other side closed) into
    /// `channel` as frames of `stream`, raw ones with a TTY (or drops it).
    private static func pump(_ fd: Int32, stream: Int32, raw: Bool, to channel: (any Channel)?) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32 << 10)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            if let channel {
                _ = try? channel.writeAndFlush(ContainerOutputRoutes.frame(Array(buffer[0..<count]), stream: stream, raw: raw)).wait()
            }
        }
    }
}
