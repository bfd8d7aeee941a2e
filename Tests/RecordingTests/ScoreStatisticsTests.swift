// ScoreSummary / ScoreStatistics against a plain two-pass twin; per-query vs pooled variance; determinism.
import Foundation
import Testing
@testable import Recording

/// Two-pass unbiased variance of the non-NaN values (the obviously-correct twin).
func plainVariance(_ values: [Float]) -> Double {
    let xs = values.filter { !$0.isNaN }.map(Double.init)
    let mean = xs.reduce(0, +) / Double(xs.count)
    return xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
}

func plainMean(_ values: [Float]) -> Double {
    let xs = values.filter { !$0.isNaN }.map(Double.init)
    return xs.reduce(0, +) / Double(xs.count)
}

/// Variances from one-pass sums agree with the two-pass twin to this relative tolerance (scores in [−1, 1]).
let varianceTolerance = 1e-9

@Test func statisticsMatchThePlainTwin() throws {
    let batch = 24, queue = 300
    let positive = scores(batch, seed: 1, lower: 0.2, upper: 0.95)
    // Rows with different means so that the per-query and pooled variances differ clearly.
    var negative: [Float] = []
    for row in 0..<batch {
        let shift = Float(row) / Float(batch) - 0.5
        negative += scores(queue, seed: UInt64(100 + row), lower: -0.3 + shift, upper: 0.3 + shift)
    }
    let summary = try ScoreSummary(positive: positive, negative: negative, threads: 2)
    let s = summary.statistics
    #expect(nearlyEqual(s.positiveMean, plainMean(positive), relative: varianceTolerance))
    #expect(nearlyEqual(s.positiveVariance, plainVariance(positive), relative: varianceTolerance))
    #expect(nearlyEqual(s.negativeMean, plainMean(negative), relative: varianceTolerance))
    #expect(nearlyEqual(s.negativeVarianceAll, plainVariance(negative), relative: varianceTolerance))
    let perQuery = (0..<batch).map { plainVariance(Array(negative[($0 * queue)..<(($0 + 1) * queue)])) }
    #expect(nearlyEqual(s.negativeVarianceQuery, perQuery.reduce(0, +) / Double(batch), relative: varianceTolerance))
    #expect(s.negativeVarianceAll > 2 * s.negativeVarianceQuery)  // the row shifts add between-row variance

    // The fused histograms equal separately filled ones.
    var positiveHistogram = ScoreHistogram(), negativeHistogram = ScoreHistogram()
    for v in positive { positiveHistogram.add(v) }
    for v in negative { negativeHistogram.add(v) }
    #expect(summary.positive.counts == positiveHistogram.counts)
    #expect(summary.negative.counts == negativeHistogram.counts)
    #expect(summary.negative.count == batch * queue && summary.positive.count == batch)
}

@Test func statisticsIgnoreNaNScoresRowByRow() throws {
    let positive: [Float] = [0.5, .nan, 0.7]
    var negative = scores(3 * 8, seed: 4)
    negative[2] = .nan
    negative[9] = .nan
    let s = try ScoreSummary(positive: positive, negative: negative, threads: 1).statistics
    let seven = Double(Float(0.7))  // the Float score, widened exactly
    #expect(nearlyEqual(s.positiveMean, (0.5 + seven) / 2))
    #expect(nearlyEqual(s.positiveVariance, (seven - 0.5) * (seven - 0.5) / 2, relative: varianceTolerance))
    let rows = (0..<3).map { plainVariance(Array(negative[($0 * 8)..<(($0 + 1) * 8)])) }
    #expect(nearlyEqual(s.negativeVarianceQuery, rows.reduce(0, +) / 3, relative: varianceTolerance))
    #expect(nearlyEqual(s.negativeMean, plainMean(negative), relative: varianceTolerance))
}

@Test func summaryIsBitIdenticalForAnyThreadCount() throws {
    let positive = scores(64, seed: 7)
    let negative = scores(64 * 1024, seed: 8)
    let one = try ScoreSummary(positive: positive, negative: negative, threads: 1)
    for threads in [2, 5] {
        let other = try ScoreSummary(positive: positive, negative: negative, threads: threads)
        #expect(other == one)
        #expect(other.statistics.negativeVarianceQuery.bitPattern == one.statistics.negativeVarianceQuery.bitPattern)
    }
}

@Test func badShapesThrowInsteadOfTrapping() {
    #expect(throws: RecordingError.self) { try ScoreSummary(positive: [], negative: [1]) }
    #expect(throws: RecordingError.self) { try ScoreSummary(positive: [0.1, 0.2], negative: [1, 2, 3]) }
}
