import Bench
import Testing

/// Percentiles: linear interpolation between closest ranks (NumPy's default).
struct StatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(Summary([3, 1, 2])?.p50 == 2)
        #expect(Summary([4, 1, 3, 2])?.p50 == 2.5)
    }

    @Test func p99InterpolatesBetweenTheTopTwoRanks() throws {
        // 1...100: h = 99 * 0.99 = 98.01 → x[98] + 0.01 * (x[99] - x[98]) = 99 + 0.01.
        let summary = try #require(Summary((1...100).map(Double.init).shuffled()))
        #expect(abs(summary.p99 - 99.01) < 1e-9)
        #expect(summary.p50 == 50.5)
        #expect(summary.min == 1 && summary.max == 100)
    }

    @Test func oneSampleIsEveryPercentile() throws {
        let summary = try #require(Summary([7.5]))
        #expect(summary.p50 == 7.5 && summary.p99 == 7.5)
    }

    @Test func samplesKeepTheirOrder() throws {
        #expect(try #require(Summary([3, 1, 2])).samples == [3, 1, 2])
    }

    @Test func noSamplesNoSummary() {
        #expect(Summary([]) == nil)
    }

    @Test func percentileEnds() {
        #expect(Summary.percentile([1, 2, 10], 0) == 1)
        #expect(Summary.percentile([1, 2, 10], 1) == 10)
        #expect(Summary.percentile([1, 2, 10], 0.75) == 6)
    }
}
