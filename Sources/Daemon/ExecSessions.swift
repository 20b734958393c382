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

    /// Runs a started instance to its end on the calling thread; its output goes to
    /// `channel` (when attached) as frames, and its exit code is recorded before the
    /// caller closes the connection (the client reads it right after).
    func run(_ instance: Instance, engine: Engine, channel: (any Channel)?) {
        var code: Int32 = 126
        do {
            var output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
            guard sl_pipe_cloexec(&output) == 0 else { throw SwiftletError.last("pipe2") }
            guard sl_pipe_cloexec(&errors) == 0 else {
                close(output[0]); close(output[1])
                throw SwiftletError.last("pipe2")
            }
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            let pumps = try [(output[0], Int32(1)), (errors[0], Int32(2))].map { fd, stream in
                try PosixThread { Self.pump(fd, stream: stream, to: channel) }
            }
            defer { pumps.forEach { $0.join() } }
            defer { [output[1], errors[1], null].forEach { close($0) } }
            code = try engine.runtime.exec(instance.containerID, instance.options, stdio: [null, output[1], errors[1]])
        } catch {
            let message = Array("\((error as? SwiftletError)?.description ?? "\(error)")\n".utf8)
            if let channel { _ = try? channel.writeAndFlush(ContainerOutputRoutes.frame(message, stream: 2, raw: false)).wait() }
            code = (error as? SwiftletError)?.code.exitStatus ?? 126
        }
        instances.withLock {
            $0[instance.id]?.running = false
            $0[instance.id]?.exitCode = code
        }
    }

    /// Copies `fd` until end of file into `channel` as frames of `stream` (or drops it).
    private static func pump(_ fd: Int32, stream: Int32, to channel: (any Channel)?) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32 << 10)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            if let channel {
                _ = try? channel.writeAndFlush(ContainerOutputRoutes.frame(Array(buffer[0..<count]), stream: stream, raw: false)).wait()
            }
        }
    }
}
