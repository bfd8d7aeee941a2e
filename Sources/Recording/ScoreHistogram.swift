// ScoreHistogram: a fixed-edge histogram of scores with under/overflow, a NaN count, and exact moments.
//
// Binning rule (the contract the tests pin down):
//   - the bin of a value x with lower ≤ x ≤ upper is floor((x − lower) · bins / (upper − lower)), computed in
//     Double from the Float score, clamped to bins − 1. Bins are half-open [e_i, e_{i+1}) except the last,
//     which is closed: x == upper goes to the LAST bin (as numpy.histogram does), never to overflow;
//     x == lower goes to bin 0. A value exactly on an interior edge that is exactly representable (0, ±0.5 on
//     the default [−1, 1] × 200 spec) goes to the bin ABOVE the edge.
//   - x < lower → underflow, x > upper → overflow (including ±infinity).
//   - NaN is counted in `nanCount` only: never in a bin, never in count, sum, sum of squares, min or max.
// Moments (count, sum, sum of squares, min, max) are exact in the sense that they come from the values, not
// from the bins; they are accumulated in Double (squares of Float inputs are exact in Double).
// Deliberately not here: adaptive or non-uniform edges, weights, and anything about storage (see RunStore).
// The fast, multi-core fill lives in ScoreHistogram+Fill.swift.
import Foundation

/// The binning of a histogram: `bins` equal bins on the closed interval [`lower`, `upper`].
public struct HistogramSpec: Codable, Hashable, Sendable {
    /// Lower edge of the first bin.
    public let lower: Double
    /// Upper edge of the last bin (inclusive: a value equal to it lands in the last bin).
    public let upper: Double
    /// Number of equal-width bins (at least 1).
    public let bins: Int

    /// A spec; throws when the edges are not finite, `lower` ≥ `upper`, or `bins` < 1.
    public init(lower: Double, upper: Double, bins: Int) throws {
        guard lower.isFinite, upper.isFinite, lower < upper else {
            throw RecordingError.invalidHistogramSpec("edges must be finite with lower < upper, got [\(lower), \(upper)]")
        }
        guard bins >= 1, bins <= 1 << 20 else {
            throw RecordingError.invalidHistogramSpec("bins must be in 1...\(1 << 20), got \(bins)")
        }
        self.lower = lower
        self.upper = upper
        self.bins = bins
    }

    private init(unchecked lower: Double, _ upper: Double, _ bins: Int) {
        self.lower = lower
        self.upper = upper
        self.bins = bins
    }

    /// The default for cosine scores (streams `pos`, `neg`): 200 bins on [−1, 1].
    public static let cosine = HistogramSpec(unchecked: -1, 1, 200)
    /// The default for transformed scores (streams `pos_ft`, `neg_ft`), which are no longer cosines:
    /// 200 bins on [−3, 1.5].
    public static let transformed = HistogramSpec(unchecked: -3, 1.5, 200)

    /// Width of one bin.
    public var binWidth: Double { (upper - lower) / Double(bins) }

    /// Bins per unit of score: the factor that maps `x − lower` to a fractional bin index.
    @inlinable public var scale: Double { Double(bins) / (upper - lower) }

    /// The lower edge of bin `index` (index `bins` gives `upper`).
    public func edge(_ index: Int) -> Double {
        index >= bins ? upper : lower + Double(index) * binWidth
    }

    /// The centre of bin `index`.
    public func center(_ index: Int) -> Double { lower + (Double(index) + 0.5) * binWidth }

    /// Where a value goes under the binning rule of this file's header.
    public func position(of value: Double) -> BinPosition {
        if value.isNaN { return .nan }
        if value < lower { return .underflow }
        if value > upper { return .overflow }
        let t = ((value - lower) * scale).rounded(.down)
        return .bin(Int(min(t, Double(bins - 1))))
    }

    // Decoding validates like `init(lower:upper:bins:)`, so a bad spec in a file is an error, not a trap.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(lower: c.decode(Double.self, forKey: .lower), upper: c.decode(Double.self, forKey: .upper),
                      bins: c.decode(Int.self, forKey: .bins))
    }
}

/// Where a value falls in a histogram.
public enum BinPosition: Hashable, Sendable {
    case underflow, overflow, nan
    case bin(Int)
}

/// A histogram of scores over fixed edges with under/overflow and NaN counts and exact Double moments.
public struct ScoreHistogram: Sendable, Hashable {
    /// The binning.
    public let spec: HistogramSpec
    /// `spec.bins` counts, bin 0 first.
    public internal(set) var counts: [UInt32]
    /// Values below `spec.lower` (including −infinity).
    public internal(set) var underflow: Int
    /// Values above `spec.upper` (including +infinity).
    public internal(set) var overflow: Int
    /// NaN values seen (kept out of every bin and every moment).
    public internal(set) var nanCount: Int
    /// Number of non-NaN values: the bins plus underflow plus overflow.
    public internal(set) var count: Int
    /// Sum of the non-NaN values.
    public internal(set) var sum: Double
    /// Sum of the squares of the non-NaN values.
    public internal(set) var sumOfSquares: Double
    /// Smallest non-NaN value (+infinity when empty).
    public internal(set) var minimum: Double
    /// Largest non-NaN value (−infinity when empty).
    public internal(set) var maximum: Double

    /// An empty histogram (default spec: `HistogramSpec.cosine`, 200 bins on [−1, 1]).
    public init(spec: HistogramSpec = .cosine) {
        self.spec = spec
        counts = [UInt32](repeating: 0, count: spec.bins)
        underflow = 0
        overflow = 0
        nanCount = 0
        count = 0
        sum = 0
        sumOfSquares = 0
        minimum = .infinity
        maximum = -.infinity
    }

    /// A histogram from stored parts (a run store row). Throws when the parts contradict each other: wrong
    /// number of counts, or bins + underflow + overflow ≠ count.
    public init(spec: HistogramSpec, counts: [UInt32], underflow: Int, overflow: Int, nanCount: Int, count: Int,
                sum: Double, sumOfSquares: Double, minimum: Double, maximum: Double) throws {
        guard counts.count == spec.bins else {
            throw RecordingError.corruptHistogram("\(counts.count) counts for \(spec.bins) bins")
        }
        let binned = counts.reduce(0) { $0 + Int($1) }
        guard underflow >= 0, overflow >= 0, nanCount >= 0, binned + underflow + overflow == count else {
            throw RecordingError.corruptHistogram(
                "bins \(binned) + underflow \(underflow) + overflow \(overflow) != count \(count)")
        }
        self.spec = spec
        self.counts = counts
        self.underflow = underflow
        self.overflow = overflow
        self.nanCount = nanCount
        self.count = count
        self.sum = sum
        self.sumOfSquares = sumOfSquares
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Mean of the non-NaN values (NaN when empty).
    public var mean: Double { count > 0 ? sum / Double(count) : .nan }

    /// Unbiased (n − 1) variance of the non-NaN values (NaN when fewer than 2).
    public var variance: Double {
        guard count > 1 else { return .nan }
        let n = Double(count)
        return max(0, (sumOfSquares - sum * sum / n) / (n - 1))
    }

    /// Adds one value under the binning rule. The plain path: use `fill(_:threads:)` for many values.
    public mutating func add(_ value: Float) {
        let x = Double(value)
        switch spec.position(of: x) {
        case .nan:
            nanCount += 1
            return
        case .underflow: underflow += 1
        case .overflow: overflow += 1
        case .bin(let index): counts[index] += 1
        }
        count += 1
        sum += x
        sumOfSquares += x * x
        minimum = Swift.min(minimum, x)
        maximum = Swift.max(maximum, x)
    }

    /// Adds the contents of `other`, which must have the same spec. Counts add; moments add. Throws on a spec
    /// mismatch or when a bin would exceed UInt32.max (the stored width), leaving `self` unchanged.
    public mutating func merge(_ other: ScoreHistogram) throws {
        guard other.spec == spec else {
            throw RecordingError.invalidHistogramSpec("cannot merge a histogram on \(other.spec) into one on \(spec)")
        }
        var merged = counts
        for i in 0..<merged.count {
            let (sum, overflow) = merged[i].addingReportingOverflow(other.counts[i])
            if overflow { throw RecordingError.corruptHistogram("bin \(i) would exceed \(UInt32.max) counts when merging") }
            merged[i] = sum
        }
        counts = merged
        underflow += other.underflow
        overflow += other.overflow
        nanCount += other.nanCount
        count += other.count
        sum += other.sum
        sumOfSquares += other.sumOfSquares
        minimum = Swift.min(minimum, other.minimum)
        maximum = Swift.max(maximum, other.maximum)
    }

    /// The `q`-quantile (q in [0, 1]) read from the bins, interpolating linearly inside the bin that holds it
    /// and treating under/overflow as mass at `minimum`/`maximum`. Exact to within one bin width for values
    /// inside the edges; NaN when the histogram is empty or q is outside [0, 1].
    public func quantile(_ q: Double) -> Double {
        guard count > 0, q >= 0, q <= 1 else { return .nan }
        let target = q * Double(count)
        var cumulative = Double(underflow)
        if target <= cumulative, underflow > 0 { return minimum }
        for i in 0..<counts.count where counts[i] > 0 {
            let c = Double(counts[i])
            if target <= cumulative + c {
                let fraction = (target - cumulative) / c
                // Clamp to the observed range so that q = 0 / 1 give the true minimum / maximum bin-wise.
                let value = spec.edge(i) + fraction * spec.binWidth
                return Swift.min(Swift.max(value, minimum), maximum)
            }
            cumulative += c
        }
        return maximum
    }
}
