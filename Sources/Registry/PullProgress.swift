import Images

/// What a pull reports about each layer as it goes, in the order Docker's pull progress
/// stream has it (`Pulling fs layer`, `Downloading` with bytes, `Download complete`,
/// `Pull complete`, or `Already exists`). `id` is the short form Docker shows: the
/// first 12 hex digits of the layer's digest.
public enum PullProgress: Sendable, Equatable {
    case waiting(id: String)
    case exists(id: String)
    case downloading(id: String, current: Int64, total: Int64)
    case downloaded(id: String)
    case complete(id: String)

    public var id: String {
        switch self {
        case .waiting(let id), .exists(let id), .downloading(let id, _, _), .downloaded(let id), .complete(let id): return id
        }
    }
}
