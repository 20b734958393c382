/// A microVM's RAM as `swiftlet-vmm --memory` takes it, and the one way the runtime writes
/// it there: `ByteSize`, Docker's `--memory` rule (a number without a unit is bytes), so
/// `--memory 256` means the same to `swiftlet run` under either isolation and to
/// `swiftlet boot` (each then refuses it as below its minimum). `256M`, `1.5g`, `1GiB`.
public enum GuestMemorySize {
    public static func parse(_ text: String) throws(ValueError) -> Int64 {
        try ByteSize.parse(text)
    }

    /// The `--memory` argument for `mebibytes` MiB (`512M`).
    public static func argument(mebibytes: Int64) -> String {
        "\(mebibytes)M"
    }
}
