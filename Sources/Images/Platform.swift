import HostSystem

/// An image platform: the `platform` object of an OCI image index entry (image-index.md) and
/// of a Docker manifest list entry, and the `os`/`architecture`/`variant` of an image config.
public struct Platform: Hashable, Codable, CustomStringConvertible, Sendable {
    public var os: String
    public var architecture: String
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case os
        case architecture
        case variant
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// The default platform: what a microVM on this host runs.
    public static let linuxAMD64 = Platform(os: "linux", architecture: "amd64")

    /// Parses `os/arch[/variant]`, as `--platform` takes it.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
            throw SwiftletError("invalid platform '\(text)': expected os/architecture[/variant], e.g. linux/amd64", code: .invalidArgument)
        }
        self.init(os: parts[0].lowercased(), architecture: parts[1].lowercased(), variant: parts.count == 3 ? parts[2].lowercased() : nil)
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// Whether an index entry's platform satisfies this requested platform: os and
    /// architecture equal, and the variant equal when one was requested.
    func accepts(_ candidate: Platform) -> Bool {
        candidate.os == os && candidate.architecture == architecture && (variant == nil || candidate.variant == variant)
    }
}
