import Foundation
import HostSystem

/// The `filters` query parameter of list and prune endpoints (moby's `api/types/filters`):
/// JSON mapping each key to its values, as `{"key":{"value":true}}` (what clients send
/// today) or the older `{"key":["value"]}`.
public struct Filters: Sendable {
    public let values: [String: Set<String>]

    public init(_ query: String?) throws(SwiftletError) {
        guard let query, !query.isEmpty else {
            values = [:]
            return
        }
        let data = Data(query.utf8)
        if let current = try? JSONDecoder().decode([String: [String: Bool]].self, from: data) {
            values = current.mapValues { Set($0.filter(\.value).keys) }
        } else if let legacy = try? JSONDecoder().decode([String: [String]].self, from: data) {
            values = legacy.mapValues(Set.init)
        } else {
            throw SwiftletError("invalid filter '\(query)'", code: .invalidArgument)
        }
    }

    /// Whether `key` has a value that reads as true (`1`, `true`).
    public func isTrue(_ key: String) -> Bool {
        values[key]?.contains(where: APIRequest.isTrue) ?? false
    }

    /// Whether some value of `key` passes `test`; true when the filter has no value for it.
    public func any(_ key: String, _ test: (String) -> Bool) -> Bool {
        guard let wanted = values[key], !wanted.isEmpty else { return true }
        return wanted.contains(where: test)
    }

    /// Whether `labels` has what one `label` filter value names: `key`, or `key=value`.
    public static func label(_ filter: String, isIn labels: [String: String]) -> Bool {
        let parts = filter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let value = labels[parts[0]] else { return false }
        return parts.count == 1 || value == parts[1]
    }
}
