/// A microVM's RAM as `swiftlet-vmm --memory` takes it, and the one way the runtime writes
/// it there. `ByteSize`'s syntax, except that a number without a unit is MiB (as before
/// Units existed, and as Firecracker's `mem_size_mib`): `256`, `256M`, `1.5g`, `1GiB`.
public enum GuestMemorySize {
    public static func parse(_ text: String) throws(ValueError) -> Int64 {
        try ByteSize.parse(text, bareNumberMultiplier: 1 << 20)
    }

    /// The `--memory` argument for `mebibytes` MiB (`512M`).
    public static func argument(mebibytes: Int64) -> String {
        "\(mebibytes)M"
    }
}
