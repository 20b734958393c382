/// Swiftlet's release version: what `swiftlet --version` and `swiftletd --version` print
/// and the Engine API's `/version` reports as the engine's.
public enum SwiftletVersion {
    public static let current = "0.1.0"
}
