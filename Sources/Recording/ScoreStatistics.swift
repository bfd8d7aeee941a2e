// ScoreStatistics: the per-step summary of the positive and negative cosine scores that goes into `steps`,
// and ScoreSummary, which computes it fused with the `pos` and `neg` histogram fills (one pass over B×K).
//
// Definitions (all in Double, NaN scores excluded everywhere; variances unbiased, divisor n − 1):
//   positiveMean, positiveVariance      over the B positive scores;
//   negativeMean                        over all B×K negative scores;
//   negativeVarianceQuery               mean over queries (rows) of the unbiased variance of that query's K
//                                       negatives: the statistic the paper's code logs and plots;
//   negativeVarianceAll                 unbiased variance pooled over all B×K negatives.
// Variances come from Double sums of x and x² (x² of a Float is exact in Double); for scores of magnitude ≲ 3
// and K ≤ 65536 the cancellation error is below 1e-12 absolute, far under any variance worth plotting.
// Deliberately not here: transformed (post-FT) statistics (their histograms carry exact moments) and storage.
import Foundation
import Parallel

/// Summary statistics of one step's scores (see the file header for the exact definitions).
public struct ScoreStatistics: Codable, Hashable, Sendable {
    /// Mean of the B positive scores.
    public var positiveMean: Double
    /// Unbiased variance of the B positive scores.
    public var positiveVariance: Double
    /// Mean of the B×K negative scores.
    public var negativeMean: Double
    /// Mean over queries of the unbiased variance over each query's K negatives (`neg_var_query`).
    public var negativeVarianceQuery: Double
    /// Unbiased variance pooled over all B×K negatives (`neg_var_all`).
    public var negativeVarianceAll: Double

    /// Statistics from their values.
    public init(positiveMean: Double, positiveVariance: Double, negativeMean: Double,
                negativeVarianceQuery: Double, negativeVarianceAll: Double) {
        self.positiveMean = positiveMean
        self.positiveVariance = positiveVariance
        self.negativeMean = negativeMean
        self.negativeVarianceQuery = negativeVarianceQuery
        self.negativeVarianceAll = negativeVarianceAll
    }
}

/// One step's statistics and its `pos` and `neg` histograms, computed in one pass over the scores.
public struct ScoreSummary: Sendable, Equatable {
    /// The `steps` row statistics.
    public var statistics: ScoreStatistics
    /// Histogram of the B positive scores (stream `pos`).
    public var positive: ScoreHistogram
    /// Histogram of the B×K negative scores (stream `neg`).
    public var negative: ScoreHistogram

    /// Summarises `positive` (B scores) and `negative` (B×K scores, row-major, row i = query i's negatives).
    /// Specs default to `HistogramSpec.cosine`; `threads` defaults to all cores; the result is bit-identical
    /// for every thread count. Throws when B is 0 or the negative count is not a multiple of B.
    public init(positive: UnsafeBufferPointer<Float>, negative: UnsafeBufferPointer<Float>,
                positiveSpec: HistogramSpec = .cosine, negativeSpec: HistogramSpec = .cosine,
                threads: Int = HistogramFill.defaultThreads) throws {
        let rows = positive.count
        guard rows > 0, negative.count % rows == 0, negative.count > 0, let negativeBase = negative.baseAddress else {
            throw RecordingError.invalidScores(
                "need B > 0 positive scores and B×K negative scores, got \(positive.count) and \(negative.count)")
        }
        let columns = negative.count / rows

        var positiveHistogram = ScoreHistogram(spec: positiveSpec)
        positiveHistogram.fill(positive, threads: 1)

        // Negatives: fixed row chunks; each row's moments give its own variance (neg_var_query).
        var negativeHistogram = ScoreHistogram(spec: negativeSpec)
        let chunks = min(HistogramFill.chunkCount, rows)
        let rowVariance = UnsafeMutablePointer<Double>.allocate(capacity: rows)
        rowVariance.initialize(repeating: .nan, count: rows)
        defer { rowVariance.deallocate() }
        let varianceShared = SendablePointer(rowVariance)
        let source = SendablePointer(UnsafeMutablePointer(mutating: negativeBase))
        let bins = negativeSpec.bins, stride = slotCount(bins: bins)
        negativeHistogram.fillChunks(chunks: chunks, threads: threads) { chunk, slots in
            var chunkPartial = FillPartial()
            for row in (chunk * rows / chunks)..<((chunk + 1) * rows / chunks) {
                let nanBefore = nanSlots(slots, bins: bins, stride: stride)
                let partial = accumulateScores(source.base + row * columns, count: columns,
                                               lower: negativeSpec.lower, upper: negativeSpec.upper,
                                               scale: negativeSpec.scale, bins: bins, slots: slots)
                let n = Double(columns - (nanSlots(slots, bins: bins, stride: stride) - nanBefore))
                if n >= 2 {
                    varianceShared.base[row] =
                        max(0, (partial.sumOfSquares - partial.sum * partial.sum / n) / (n - 1))
                }
                chunkPartial.merge(partial)
            }
            return chunkPartial
        }
        var varianceSum = 0.0, queries = 0
        for row in 0..<rows where !rowVariance[row].isNaN {
            varianceSum += rowVariance[row]
            queries += 1
        }
        statistics = ScoreStatistics(
            positiveMean: positiveHistogram.mean, positiveVariance: positiveHistogram.variance,
            negativeMean: negativeHistogram.mean,
            negativeVarianceQuery: queries > 0 ? varianceSum / Double(queries) : .nan,
            negativeVarianceAll: negativeHistogram.variance)
        self.positive = positiveHistogram
        self.negative = negativeHistogram
    }

    /// Convenience over arrays (tests, small callers).
    public init(positive: [Float], negative: [Float], positiveSpec: HistogramSpec = .cosine,
                negativeSpec: HistogramSpec = .cosine, threads: Int = HistogramFill.defaultThreads) throws {
        self = try positive.withUnsafeBufferPointer { p in
            try negative.withUnsafeBufferPointer { n in
                try ScoreSummary(positive: p, negative: n, positiveSpec: positiveSpec, negativeSpec: negativeSpec,
                                 threads: threads)
            }
        }
    }
}

/// NaN counters of the sub-histograms of one chunk.
@inline(__always)
private func nanSlots(_ slots: UnsafeMutablePointer<UInt32>, bins: Int, stride: Int) -> Int {
    var total = 0
    for sub in 0..<HistogramFill.subHistograms { total += Int(slots[sub * stride + bins + 2]) }
    return total
}
