import Foundation
import Synchronization
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A container's output log, `container.log`, in Docker's json-file format: one JSON
/// object per chunk of output, `{"log":"…","stream":"stdout"|"stderr","time":"…"}`.
/// Written by the container's monitor (both streams, from two threads), read by `logs`
/// and by attached clients.
final class ContainerLog: Sendable {
    /// One record of the log.
    struct Record: Codable {
        var log: String
        var stream: String
        var time: String
    }

    private let fd: Mutex<Int32>

    init(path: String) throws {
        fd = Mutex(try sys("open \(path)") { open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640) })
    }

    deinit { fd.withLock { _ = close($0) } }

    /// Appends one record; write errors (a full disk) drop the record.
    func append(_ data: Data, stream: String) {
        let record = Record(log: String(decoding: data, as: UTF8.self), stream: stream,
                            time: ISO8601DateFormatter.string(from: Date(), timeZone: .gmt,
                                                              formatOptions: [.withInternetDateTime, .withFractionalSeconds]))
        guard var line = try? JSONEncoder().encode(record) else { return }
        line.append(0x0a)
        fd.withLock { _ = writeAll($0, line) }
    }

    /// Reads records from `path` starting at byte `offset`; returns them and the offset
    /// after the last complete line.
    static func read(_ path: String, from offset: UInt64) -> (records: [Record], next: UInt64) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return ([], offset) }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let data = (try? handle.readToEnd()) ?? Data()
        guard let lastNewline = data.lastIndex(of: 0x0a) else { return ([], offset) }
        let complete = data[data.startIndex...lastNewline]
        let decoder = JSONDecoder()
        let records = complete.split(separator: 0x0a).compactMap { try? decoder.decode(Record.self, from: Data($0)) }
        return (records, offset + UInt64(complete.count))
    }
}

/// Writes all of `data` to `fd`; false when the fd is closed or broken.
@discardableResult
func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { (try? Descriptors.writeAll(fd, $0)) != nil }
}
