import Foundation

/// Swiftlet's version and the Engine API version swiftletd claims, for `swiftlet version`
/// and swiftletd's `/version` alike.
public enum SwiftletVersion {
    public static let engine = "0.1.0"
    /// The Engine API version swiftletd serves (the stock docker 28.2 client negotiates
    /// down to it; ENGINE-API notes §0).
    public static let api = (major: 1, minor: 44)
}

/// Facts about the host that `swiftlet info` and swiftletd's `/version` and `/info` report.
public enum HostFacts {
    /// PRETTY_NAME from /etc/os-release.
    public static let operatingSystem: String = {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
        return line.map { String($0.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: ["\""]) } ?? "Linux"
    }()

    /// The cgroup version containers are limited by: "2" on the unified hierarchy, else "1".
    public static var cgroupVersion: String { Cgroup.isUnified ? "2" : "1" }
}
