import AgentProtocol
import Runtime

/// Fuzzes the container security options' parsers (Sources/Runtime): the first byte picks
/// one, the rest is its input. A seccomp profile (Docker's JSON format) is decoded and, when
/// valid, compiled to BPF with libseccomp for the default capabilities; `--tmpfs`,
/// `--sysctl`, `--security-opt` (the forms that read no file) and `--userns` are parsed.
/// Each must return a value or throw a `SwiftletError`, never crash, and a compiled filter
/// is a whole number of 8-byte BPF instructions.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let text = String(decoding: bytes, as: UTF8.self)
    switch data[0] % 5 {
    case 0:
        guard let profile = try? SeccompProfile(json: bytes, source: "fuzz") else { return 0 }
        if let filter = try? profile.withoutBlockDeviceNodes.compile(capabilities: .dockerDefault) {
            precondition(filter.program.count % 8 == 0, "a BPF program of \(filter.program.count) bytes")
        }
    case 1:
        if let mount = try? TmpfsMount(parsing: text) {
            precondition(mount.destination.hasPrefix("/"), "tmpfs target \(mount.destination)")
            _ = try? mount.mountArguments()
        }
    case 2:
        _ = try? Sysctl(parsing: text)
    case 3:
        // seccomp=PATH reads a file: only the forms that do not.
        guard !text.hasPrefix("seccomp") || text == "seccomp=unconfined" else { return 0 }
        var options = SecurityOptions()
        try? options.apply(securityOpt: text)
    default:
        _ = try? UserNamespaceMode(parsing: text)
    }
    return 0
}
