/// The summary of one metric's samples on one system: median, 99th percentile, extremes
/// and the samples themselves (kept in the JSON so other statistics can be computed).
/// Percentiles use linear interpolation between closest ranks (NumPy's default,
/// Hyndman & Fan type 7): p(q) = x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])
/// with h = (n - 1) * q over the sorted samples.
public struct Summary: Codable, Equatable, Sendable {
    public let p50: Double
    public let p99: Double
    public let min: Double
    public let max: Double
    public let samples: [Double]

    /// Summarises `samples`; nil when there are none.
    public init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        p50 = Summary.percentile(sorted, 0.50)
        p99 = Summary.percentile(sorted, 0.99)
        min = sorted[0]
        max = sorted[sorted.count - 1]
        self.samples = samples
    }

    /// The `q` quantile (0...1) of already sorted, non-empty values.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty && (0...1).contains(q), "percentile of an empty list or q outside 0...1")
        let h = Double(sorted.count - 1) * q
        let lower = Int(h.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        return sorted[lower] + (h - Double(lower)) * (sorted[upper] - sorted[lower])
    }
}
