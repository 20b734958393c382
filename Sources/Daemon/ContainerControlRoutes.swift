import Foundation
import HostSystem
import NIOCore
import Runtime
import Units

/// The container control endpoints (moby's `api/server/router/container`): `rename`,
/// `pause`, `unpause`, `restart` (204 each), `top` (`ps_args`), `stats` (`stream`,
/// `one-shot`) and `update` (Memory, NanoCpus, PidsLimit, CpuShares; `{"Warnings":[]}`),
/// each one call into the runtime on the thread pool; a stats stream on a thread of its
/// own.
public enum ContainerControlRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/containers/{id}/rename") { request, parameters in
            let id = parameters["id"] ?? "", name = request.query["name"] ?? ""
            try await blocking { try engine.runtime.changeName(id, to: name) }
            return .noContent
        }
        router.add(.POST, "/containers/{id}/pause") { _, parameters in
            let id = parameters["id"] ?? ""
            try await blocking { try engine.runtime.pause(id) }
            return .noContent
        }
        router.add(.POST, "/containers/{id}/unpause") { _, parameters in
            let id = parameters["id"] ?? ""
            try await blocking { try engine.runtime.unpause(id) }
            return .noContent
        }
        router.add(.POST, "/containers/{id}/restart") { request, parameters in
            let id = parameters["id"] ?? ""
            let timeout = try request.query["t"].map { text throws(SwiftletError) in
                guard let seconds = Int(text) else { throw SwiftletError("invalid t: \(text)", code: .invalidArgument) }
                return Double(seconds)
            } ?? 10
            try await onOwnThread { try engine.runtime.restart(id, timeout: timeout) }
            return .noContent
        }
        router.add(.GET, "/containers/{id}/top") { request, parameters in
            let id = parameters["id"] ?? ""
            let arguments = (request.query["ps_args"] ?? "").split(separator: " ").map(String.init)
            return try .json(try await blocking { try engine.runtime.top(id, psArguments: arguments) })
        }
        router.add(.POST, "/containers/{id}/update") { request, parameters in
            let id = parameters["id"] ?? ""
            let update = try UpdateBody.decode(request.body).resourceUpdate()
            let warnings = try await blocking { try engine.runtime.update(id, update) }
            return try .json(["Warnings": warnings])
        }
        router.add(.GET, "/containers/{id}/stats") { request, parameters in
            let id = parameters["id"] ?? ""
            let stream = request.query["stream"].map(APIRequest.isTrue) ?? true
            let oneShot = request.flag("one-shot")
            let first = try await blocking { try engine.runtime.statistics(id) }
            if !stream && (oneShot || first.read == nil) { return try .json(first) }
            return APIResponse(headers: [("Content-Type", "application/json")]) { writer in
                try await onOwnThread { try Self.sample(id, after: first, stream: stream, engine: engine, writer: writer) }
            }
        }
    }

    /// moby's sampling: once a second, each sample carrying the previous one's CPU
    /// numbers (`precpu_stats`, `preread`); a streamed first sample has none. Without
    /// `stream`, the second sample alone; streamed, until the container stops or the
    /// client leaves.
    static func sample(_ id: String, after first: ContainerStatistics, stream: Bool, engine: Engine, writer: BodyWriter) throws {
        var previous = first
        if stream { try write(first, to: writer) }
        while previous.read != nil {
            var pause = timespec(tv_sec: 1, tv_nsec: 0)
            nanosleep(&pause, nil)
            var next = try engine.runtime.statistics(id)
            next.precpu = previous.cpu
            next.preread = previous.read
            try write(next, to: writer)
            if !stream { return }
            previous = next
        }
    }

    private static func write(_ sample: ContainerStatistics, to writer: BodyWriter) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        var line = try encoder.encode(sample)
        line.append(UInt8(ascii: "\n"))
        try writer.writeBlocking(ByteBuffer(bytes: line))
    }

    /// The body of `POST /containers/{id}/update` (moby's `container.UpdateConfig`): the
    /// Resources Swiftlet applies (0 or absent leaves a value as it is, as dockerd) and the
    /// restart policy.
    package struct UpdateBody: Decodable {
        var Memory: Int64?
        var NanoCpus: Int64?
        var PidsLimit: Int?
        var CpuShares: Int?
        var RestartPolicy: RestartPolicyBody?

        package static func decode(_ body: ByteBuffer) throws -> UpdateBody {
            do {
                return try JSONDecoder().decode(UpdateBody.self, from: Data(body.readableBytesView))
            } catch {
                throw SwiftletError("invalid update configuration: \(error)", code: .invalidArgument)
            }
        }

        package func resourceUpdate() throws -> ResourceUpdate {
            let policy = try RestartPolicy?.policy()
            if let memory = Memory, memory > 0, memory < MemoryLimit.minimum {
                throw SwiftletError("Minimum memory limit allowed is 6MB", code: .invalidArgument)
            }
            if let shares = CpuShares, shares < 0 {
                throw SwiftletError("invalid CPU shares \(shares): must not be negative", code: .invalidArgument)
            }
            return ResourceUpdate(memory: Memory.flatMap { $0 > 0 ? $0 : nil },
                                  cpus: NanoCpus.flatMap { $0 > 0 ? Double($0) / 1e9 : nil },
                                  pids: PidsLimit, cpuShares: CpuShares.flatMap { $0 > 0 ? $0 : nil }, restartPolicy: policy)
        }
    }
}
