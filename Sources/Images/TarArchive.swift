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

    /// Unpacks `path` into the existing directory `directory`.
    public static func extract(_ path: String, into directory: String) throws {
        var unpacker = LayerUnpacker(root: directory)
        try unpacker.apply(TarReader(try DecompressingSource.open(path, what: path), what: path), layer: path)
        unpacker.finish()
    }
}
