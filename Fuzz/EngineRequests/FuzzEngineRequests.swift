import Daemon
import HostSystem
import NIOCore
import NIOHTTP1

/// Fuzzes what swiftletd parses from a client (Sources/Daemon): byte 0 picks the method,
/// the next line is the request URI, the rest the body. The URI goes to `APIRequest`
/// (version prefix, path, query), the `filters` query and the URI to `Filters`, the body to
/// the container create decoder and its mapping onto the runtime's options, and the text
/// to `ListenAddress` and `APIVersion`. Each must
/// answer or throw a `SwiftletError`, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let rest = input.dropFirst()
    let newline = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
    let uri = String(decoding: rest[rest.startIndex..<newline], as: UTF8.self)
    let body = ByteBuffer(bytes: rest[newline...].dropFirst())
    let methods: [HTTPMethod] = [.GET, .POST, .DELETE, .HEAD, .PUT]
    let request = APIRequest(method: methods[Int(first) % methods.count], uri: uri, body: body)
    precondition(request.path.isEmpty || request.path.hasPrefix("/") || !uri.hasPrefix("/"), "path \(request.path) from \(uri)")
    _ = try? Filters(request.query["filters"])
    _ = try? Filters(uri)
    _ = try? ListenAddress(parsing: uri)
    _ = APIVersion(uri)
    // A body that decodes must map onto the runtime's options or be refused.
    _ = try? CreateBody.decode(body).options(defaultIsolation: .namespace)
    return 0
}
