import Foundation
@testable import Images

/// Fuzzes the decoding of what a registry or an image archive supplies (OCI image-spec
/// image-index.md, manifest.md, config.md): the input is JSON decoded as an index, a
/// manifest and a config. A document that decodes must validate or throw, and encode to
/// JSON that decodes and encodes to the same bytes; nothing may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let json = Data(bytes: data, count: size)
    if let index = try? decodeJSON(ImageIndex.self, from: json, what: "index") {
        _ = try? index.select(Platform(os: "linux", architecture: "amd64", variant: nil))
        checkStableEncoding(index)
    }
    if let manifest = try? decodeJSON(ImageManifest.self, from: json, what: "manifest") {
        try? manifest.validate()
        checkStableEncoding(manifest)
    }
    if let config = try? decodeJSON(ImageConfig.self, from: json, what: "config") {
        _ = config.platform
        checkStableEncoding(config)
    }
    _ = try? decodeJSON(Descriptor.self, from: json, what: "descriptor")
    return 0
}

func checkStableEncoding<T: Codable>(_ value: T) {
    let encoded = encodeJSON(value)
    guard let again = try? decodeJSON(T.self, from: encoded, what: "re-encoded") else {
        fatalError("re-encoded \(T.self) does not decode: \(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(encodeJSON(again) == encoded, "\(T.self) encodes differently after a round trip")
}
