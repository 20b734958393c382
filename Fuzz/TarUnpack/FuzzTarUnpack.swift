import Foundation
@testable import Images

/// Fuzzes the tar reader (POSIX ustar, pax, GNU long names) and the layer unpacker (OCI
/// image-spec layer.md) with what an image layer may hold. Bytes 0–1 (little-endian) give
/// the first layer's length in 512-byte blocks; the rest of the input is the second layer,
/// applied on top. Both unpack into `sandbox/root`; after each input nothing else in the
/// sandbox may have changed: no new entry beside `root`, the canary file in `outside`
/// unmodified and not hard-linked. Any malformed archive must throw, never crash.
let sandbox = "\(NSTemporaryDirectory())/swiftlet-fuzz-tar-\(getpid())"
let root = sandbox + "/root"
let outside = sandbox + "/outside"
let canary = outside + "/canary"
let canaryText = "untouched\n"
let canaryMode: mode_t = 0o600
let setUp: Void = {
    try? FileManager.default.removeItem(atPath: sandbox)
    mkdir(sandbox, 0o755)
    mkdir(outside, 0o755)
    _ = FileManager.default.createFile(atPath: canary, contents: Data(canaryText.utf8), attributes: [.posixPermissions: canaryMode])
}()

/// A layer held in memory.
final class MemorySource: ByteSource {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.endIndex - offset)
        buffer.copyBytes(from: bytes[offset..<offset + count])
        offset += count
        return count
    }

    func finish() throws {}
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = setUp
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard input.count >= 2 else { return 0 }
    let split = min(input.count, 2 + 512 * (Int(input[0]) | Int(input[1]) << 8))
    mkdir(root, 0o755)
    var unpacker = LayerUnpacker(root: root)
    for (number, layer) in [input[2..<split], input[split...]].enumerated() {
        do {
            try unpacker.apply(TarReader(MemorySource(layer), what: "layer \(number)"), layer: "layer \(number)")
        } catch {
            break
        }
    }
    unpacker.finish()
    checkNothingEscaped()
    do {
        try FileManager.default.removeItem(atPath: root)
    } catch {
        fatalError("cannot empty \(root) for the next input: \(error)")
    }
    return 0
}

func checkNothingEscaped() {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: sandbox))?.sorted()
    precondition(entries == ["outside", "root"], "the layer changed the sandbox: \(entries ?? [])")
    let outsideEntries = try? FileManager.default.contentsOfDirectory(atPath: outside)
    precondition(outsideEntries == ["canary"], "the layer wrote outside the root: \(outsideEntries ?? [])")
    var info = stat()
    precondition(lstat(canary, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG, "the canary is no longer a file")
    precondition(info.st_nlink == 1, "the layer hard-linked a file outside the root")
    precondition(info.st_mode & 0o7777 == canaryMode && info.st_uid == 0 || geteuid() != 0, "the layer changed the canary's mode or owner")
    precondition(FileManager.default.contents(atPath: canary) == Data(canaryText.utf8), "the layer modified a file outside the root")
}
