import HostSystem

/// An image reference as the distribution project's reference grammar defines it and as the
/// OCI distribution-spec uses it in URLs (`/v2/<name>/manifests/<reference>`):
/// `[host[:port]/]path[:tag][@sha256:hex]`, normalised the Docker way — no host means
/// `docker.io`, a one-component Docker Hub path gets `library/`, and no tag nor digest
/// means `:latest`.
public struct ImageReference: Hashable, CustomStringConvertible, Sendable {
    /// The registry host, with its port when one was given (`docker.io`, `127.0.0.1:5000`).
    public let host: String
    /// The repository path inside the registry (`library/busybox`).
    public let path: String
    /// The tag, when one was given or defaulted.
    public let tag: String?
    /// The manifest digest, when the reference pins one.
    public let digest: Digest?

    public init(host: String, path: String, tag: String?, digest: Digest?) {
        self.host = host
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    public init(parsing text: String) throws {
        func bad(_ why: String) -> SwiftletError {
            SwiftletError("invalid image reference '\(text)': \(why)", code: .invalidArgument)
        }
        guard !text.isEmpty else { throw bad("it is empty") }
        guard text.count <= 255 + 72 + 129 else { throw bad("it is too long") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do {
                digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            } catch {
                throw bad("\(error)")
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(candidate) else {
                throw bad("tag '\(candidate)' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
            }
            tag = candidate
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var host = "docker.io"
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            guard Self.isValidHost(first) else { throw bad("registry host '\(first)' is malformed") }
            host = first
            components.removeFirst()
        }
        for component in components where !Self.isValidPathComponent(component) {
            throw bad("path component '\(component)' must be lowercase letters and digits separated by '.', '_', '__' or '-'")
        }
        if host == "docker.io" && components.count == 1 {
            components.insert("library", at: 0)
        }
        let path = components.joined(separator: "/")
        guard path.count <= 255 else { throw bad("the repository name is longer than 255 characters") }
        self.init(host: host, path: path, tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
    }

    /// A full reference as Docker prints it: without `docker.io/` and `library/`.
    public static func familiar(_ reference: String) -> String {
        var name = reference
        if name.hasPrefix("docker.io/") { name.removeFirst("docker.io/".count) }
        if name.hasPrefix("library/") { name.removeFirst("library/".count) }
        return name
    }

    /// `host/path:tag@digest`, fully qualified.
    public var description: String {
        var text = "\(host)/\(path)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// `host/path` without tag or digest.
    public var repository: String { "\(host)/\(path)" }

    /// What to ask a registry for: the digest when pinned, else the tag.
    package var manifestReference: String { digest?.description ?? tag ?? "latest" }

    /// The same repository with another tag and no digest.
    func withTag(_ tag: String) -> ImageReference {
        ImageReference(host: host, path: path, tag: tag, digest: nil)
    }

    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        var index = 0
        while index < bytes.count {
            if isLowerAlnum(bytes[index]) {
                index += 1
                continue
            }
            // A separator: ".", "_", "__" or a run of "-", always followed by an alphanumeric.
            let start = index
            if bytes[index] == UInt8(ascii: "-") {
                while index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
            } else if bytes[index] == UInt8(ascii: "_") {
                index += (index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "_")) ? 2 : 1
            } else if bytes[index] == UInt8(ascii: ".") {
                index += 1
            } else {
                return false
            }
            guard index > start, index < bytes.count, isLowerAlnum(bytes[index]) else { return false }
        }
        return true
    }

    static func isValidHost(_ host: String) -> Bool {
        var name = Substring(host)
        if let colon = name.lastIndex(of: ":"), !name.hasSuffix("]") {
            let port = name[name.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber) else {
                return false
            }
            name = name[..<colon]
        }
        if name.hasPrefix("[") && name.hasSuffix("]") {
            return name.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" }
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }
}
