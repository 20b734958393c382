/// Pure edits of the store's index.json entries (an OCI image layout index, image-layout.md):
/// each entry is a manifest descriptor whose `org.opencontainers.image.ref.name` annotation
/// is a full reference; an entry without one is a dangling image, kept until `prune`.
enum StoreIndex {
    static func referenceName(_ entry: Descriptor) -> String? {
        entry.annotations?[Descriptor.refNameKey]
    }

    /// Gives `reference` to `manifest` (or records it dangling when `reference` is nil).
    /// An image that loses its last name stays as a dangling entry.
    static func naming(_ entries: [Descriptor], reference: ImageReference?, manifest: Descriptor) -> [Descriptor] {
        var result = entries
        var entry = manifest
        entry.annotations = nil
        guard let reference else {
            if !result.contains(where: { $0.digest == manifest.digest }) {
                result.append(entry)
            }
            return result
        }
        result = removing(result, reference: reference.description)
        result.removeAll { $0.digest == manifest.digest && referenceName($0) == nil }
        entry.annotations = [Descriptor.refNameKey: reference.description]
        result.append(entry)
        return result
    }

    /// Removes a name; the image it named stays as a dangling entry if nothing else names it.
    static func removing(_ entries: [Descriptor], reference: String) -> [Descriptor] {
        guard let index = entries.firstIndex(where: { referenceName($0) == reference }) else { return entries }
        var result = entries
        var old = result.remove(at: index)
        if !result.contains(where: { $0.digest == old.digest }) {
            old.annotations = nil
            result.append(old)
        }
        return result
    }
}
