import HostSystem
import Foundation

/// A local tar archive (plain, gzip or zstd) as `ADD` treats one (Dockerfile reference:
/// "ADD", local tar archives are unpacked): recognised by parsing its first header, and
/// unpacked with the layer unpacker's protections (nothing lands outside the target).
public enum TarArchive {
    /// Whether `path` is a tar archive, possibly compressed.
    public static func recognises(_ path: String) -> Bool {
        guard let source = try? DecompressingSource.open(path, what: path) else { return false }
        return (try? TarReader(source, what: path).next()) != nil
    }

    /// Unpacks `path` into the existing directory `directory` (`.wh.` names are ordinary
    /// files here, not whiteouts); with `owner`, every entry gets that owner instead of the
    /// archive's.
    public static func extract(_ path: String, into directory: String, owner: (uid: UInt32, gid: UInt32)? = nil) throws {
        var unpacker = LayerUnpacker(root: directory)
        unpacker.owner = owner
        unpacker.whiteouts = false
        try unpacker.apply(TarReader(try DecompressingSource.open(path, what: path), what: path), layer: path)
        unpacker.finish()
    }
}
