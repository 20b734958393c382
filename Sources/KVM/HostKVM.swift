#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kind of KVM a host offers, which decides what guests can run on it directly.
///
/// - `hardware`: `/dev/kvm` backed by VT-x/AMD-V (`vmx`/`svm` in `/proc/cpuinfo`):
///   any guest, including a stock Linux kernel reaching userspace.
/// - `paravirtualNested`: `/dev/kvm` provided by the `kvm_pvm` module. It runs small
///   freestanding guests (the `firmware/` test programs) but a Linux guest cannot
///   reach userspace on it; such guests go through `scripts/kvm-rig`.
/// - `unavailable`: no usable `/dev/kvm` at all.
public enum HostKVMKind: Sendable, Equatable {
    case hardware(extensions: String)
    case paravirtualNested
    case unavailable(reason: String)

    /// Whether a stock Linux guest (kernel plus userspace) can run on this `/dev/kvm`.
    public var runsLinuxGuests: Bool {
        if case .hardware = self { return true }
        return false
    }

    /// Whether small freestanding guests (no SSE state, no syscalls) can run.
    public var runsFreestandingGuests: Bool {
        switch self {
        case .hardware, .paravirtualNested: return true
        case .unavailable: return false
        }
    }

    /// One line for users and test logs.
    public var summary: String {
        switch self {
        case .hardware(let ext):
            return "hardware KVM (\(ext)): Linux guests run directly on /dev/kvm"
        case .paravirtualNested:
            return "paravirtual nested KVM (kvm_pvm): only small freestanding guests run on /dev/kvm; Linux guests need scripts/kvm-rig"
        case .unavailable(let reason):
            return "no usable KVM: \(reason)"
        }
    }
}

/// Detects the host's KVM kind from `/proc/cpuinfo`, `/sys/module` and `/dev/kvm`.
public enum HostKVM {
    /// Classifies a host from already-gathered facts (pure; unit-tested).
    ///
    /// - Parameters:
    ///   - cpuinfo: the text of `/proc/cpuinfo`.
    ///   - loadedModules: names present under `/sys/module` that matter (`kvm_pvm`).
    ///   - deviceError: nil when `/dev/kvm` opened read-write, else why it did not.
    public static func classify(cpuinfo: String, loadedModules: Set<String>, deviceError: String?) -> HostKVMKind {
        if let deviceError {
            return .unavailable(reason: deviceError)
        }
        if loadedModules.contains("kvm_pvm") {
            return .paravirtualNested
        }
        let flags = cpuFlags(cpuinfo)
        if flags.contains("vmx") { return .hardware(extensions: "vmx") }
        if flags.contains("svm") { return .hardware(extensions: "svm") }
        return .unavailable(reason: "/dev/kvm exists but the CPU advertises neither vmx nor svm and kvm_pvm is not loaded")
    }

    /// Probes this host.
    public static func detect(devicePath: String = "/dev/kvm") -> HostKVMKind {
        let cpuinfo = readSmallTextFile("/proc/cpuinfo") ?? ""
        var modules: Set<String> = []
        if access("/sys/module/kvm_pvm", F_OK) == 0 { modules.insert("kvm_pvm") }
        return classify(cpuinfo: cpuinfo, loadedModules: modules, deviceError: deviceOpenError(devicePath))
    }

    /// The flags of the first processor in a `/proc/cpuinfo` text.
    static func cpuFlags(_ cpuinfo: String) -> Set<String> {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0].trimmingCharacters(in: " \t") == "flags" {
                return Set(parts[1].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    static func deviceOpenError(_ path: String) -> String? {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd >= 0 {
            close(fd)
            return nil
        }
        let err = errno
        return "cannot open \(path): \(String(cString: strerror(err))) (errno \(err))"
    }

    static func readSmallTextFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
