import HostSystem

/// Checks an image's layers before the image is admitted to the store: each layer must
/// decompress cleanly, be a well-formed tar, hash (uncompressed) to its `diff_id` from the
/// config (OCI image-spec config.md, `rootfs.diff_ids`), and contain nothing the
/// `LayerUnpacker` would refuse: absolute or `..` paths, or entries, hard links and
/// whiteouts reaching through a symbolic link declared by this or a lower layer.
package struct LayerVerifier {
    private var symlinks: Set<String> = []

    /// Verifies every layer of `image`, reading blobs through `path(of:)`.
    package static func verify(_ image: ResolvedImage, path: (Digest) -> String?) throws {
        var verifier = LayerVerifier()
        for (index, layer) in image.manifest.layers.enumerated() {
            guard let file = path(layer.digest) else { throw SwiftletError("layer \(layer.digest) is missing") }
            let what = "layer \(index + 1) (\(layer.digest))"
            try verifier.verify(file: file, diffID: image.config.rootfs.diff_ids[index], what: what)
        }
    }

    private mutating func verify(file: String, diffID: Digest, what: String) throws {
        let source = HashingSource(try DecompressingSource.open(file, what: what))
        let reader = TarReader(source, what: what)
        while let entry = try reader.next() {
            do {
                try check(entry)
            } catch {
                throw SwiftletError.wrap(error, "\(what): entry '\(entry.path)'")
            }
        }
        let actual = try source.finishDigest()
        guard actual == diffID else {
            throw SwiftletError("\(what): uncompressed content hashes to \(actual), but the config's diff_id is \(diffID)")
        }
    }

    private mutating func check(_ entry: TarEntry) throws {
        let components = try LayerUnpacker.components(of: entry.path)
        guard let name = components.last else { return }
        try checkParents(components.dropLast())
        let parent = components.dropLast().joined(separator: "/")
        let path = parent.isEmpty ? name : "\(parent)/\(name)"
        if name == ".wh..wh..opq" {
            symlinks = symlinks.filter { !$0.hasPrefix(parent.isEmpty ? "" : parent + "/") }
            return
        }
        if name.hasPrefix(".wh.") {
            let target = String(name.dropFirst(4))
            guard !target.isEmpty, target != ".", target != ".." else {
                throw SwiftletError("malformed whiteout name '\(name)'")
            }
            let removed = parent.isEmpty ? target : "\(parent)/\(target)"
            symlinks = symlinks.filter { $0 != removed && !$0.hasPrefix(removed + "/") }
            return
        }
        if entry.kind == .hardLink {
            let target = try LayerUnpacker.components(of: entry.linkTarget)
            guard !target.isEmpty else { throw SwiftletError("hard link to the image root") }
            try checkParents(target.dropLast())
        }
        if entry.kind == .symbolicLink {
            symlinks.insert(path)
        } else {
            symlinks = symlinks.filter { $0 != path && !$0.hasPrefix(path + "/") }
        }
    }

    private func checkParents(_ components: ArraySlice<String>) throws {
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : "\(prefix)/\(component)"
            if symlinks.contains(prefix) {
                throw SwiftletError("refusing to write through the symbolic link '\(prefix)' (it could point outside the image root)")
            }
        }
    }
}
