import Daemon
import HostSystem
import NIOCore
import NIOHTTP1
import Runtime

/// Fuzzes what swiftletd parses from a client (Sources/Daemon): byte 0 picks the method,
/// the next line is the request URI, the rest the body. The URI goes to `APIRequest`
/// (version prefix, path, query), the `filters` query and the URI to `Filters`, the body to
/// the container create and update decoders and their mapping onto the runtime's options,
/// the query to the resize size, and the text to `ListenAddress`, `APIVersion`, a restart
/// policy and a published-port spec. Each must answer or throw a `SwiftletError`, never
/// crash.
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
    // By bytes: "/" followed by a combining mark is one Character, which String.hasPrefix("/") does not match.
    let slash = "/".utf8
    precondition(request.path.isEmpty || request.path.utf8.starts(with: slash) || !uri.utf8.starts(with: slash), "path \(request.path) from \(uri)")
    _ = try? Filters(request.query["filters"])
    _ = try? Filters(uri)
    _ = try? ListenAddress(parsing: uri)
    _ = APIVersion(uri)
    // A body that decodes must map onto the runtime's options or be refused.
    _ = try? CreateBody.decode(body).options(defaultIsolation: .namespace)
    _ = try? ContainerControlRoutes.UpdateBody.decode(body).resourceUpdate()
    _ = try? TerminalSize(request)
    _ = try? RestartPolicy(parsing: uri)
    _ = try? PortBinding.parse(uri)
    return 0
}
