import Foundation
import HostSystem
import NIOCore
import Runtime

/// A container's output over the API: `GET /containers/{id}/logs` (stdout, stderr,
/// follow, tail, timestamps) in dockerd's framing: without a TTY each chunk is
/// multiplexed (an 8-byte header: the stream, three zero bytes, the length big-endian;
/// moby's `stdcopy`), with one the bytes go raw.
public enum ContainerOutputRoutes {
    public static func add(to router: inout Router, engine: Engine) {
        router.add(.POST, "/containers/{id}/resize") { request, parameters in
            let size = try TerminalSize(request)
            let id = parameters["id"] ?? ""
            try await blocking {
                guard try engine.runtime.info(id).config.tty else {
                    throw SwiftletError("container \(id) has no TTY to resize", code: .invalidArgument)
                }
                try engine.runtime.attachInput(id).resize(rows: size.rows, columns: size.columns)
            }
            return APIResponse()
        }
        router.add(.GET, "/containers/{id}/logs") { request, parameters in
            let id = parameters["id"] ?? ""
            let wanted: Set<Int32> = Set([request.flag("stdout") ? 1 : 0, request.flag("stderr") ? 2 : 0].filter { $0 != 0 })
            guard !wanted.isEmpty else {
                throw SwiftletError("Bad parameters: you must choose at least one stream", code: .invalidArgument)
            }
            let tail = try request.query["tail"].flatMap { text throws(SwiftletError) -> Int? in
                if text == "all" || text.isEmpty { return nil }
                guard let count = Int(text) else { throw SwiftletError("invalid tail: \(text)", code: .invalidArgument) }
                return count
            }
            let follow = request.flag("follow"), timestamps = request.flag("timestamps")
            let tty = try await blocking { try engine.runtime.info(id).config.tty }
            let type = tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
            return APIResponse(headers: [("Content-Type", type)]) { writer in
                try await onOwnThread {
                    try engine.runtime.logs(id, follow: follow, tail: tail) { entry in
                        guard wanted.contains(entry.stream) else { return true }
                        let text = timestamps ? "\(entry.time) \(entry.text)" : entry.text
                        return (try? writer.writeBlocking(frame(Array(text.utf8), stream: entry.stream, raw: tty))) != nil
                    }
                }
            }
        }
    }

    /// One chunk as moby's `stdcopy` writes it (or as is with a TTY).
    static func frame(_ bytes: [UInt8], stream: Int32, raw: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        if !raw {
            buffer.writeInteger(UInt8(stream))
            buffer.writeBytes([0, 0, 0])
            buffer.writeInteger(UInt32(bytes.count), endianness: .big)
        }
        buffer.writeBytes(bytes)
        return buffer
    }
}
