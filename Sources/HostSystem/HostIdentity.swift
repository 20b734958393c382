#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Identifiers and facts of this host that several front ends report: Docker-style random
/// ids (64 hex digits, as container, exec and anonymous volume names) and the kernel
/// release (uname(2)).
public enum HostIdentity {
    /// 32 random bytes from the system's generator, as 64 lowercase hex digits.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text += [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The running kernel's release, `uname -r`.
    public static let kernelRelease: String = {
        var names = utsname()
        uname(&names)
        return withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }()
}
