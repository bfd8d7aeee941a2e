// ScoreHistogram: the binning rule on edges, under/overflow, NaN, exact moments, the fast fill against the
// one-value-at-a-time twin, and bit-identical results for any thread count.
import Foundation
import Testing
@testable import Recording

/// Relative tolerance for Double moments computed in different summation orders (1M values at most).
let momentTolerance = 1e-12

func nearlyEqual(_ a: Double, _ b: Double, relative: Double = momentTolerance) -> Bool {
    if a == b { return true }
    return abs(a - b) <= relative * max(abs(a), abs(b), 1e-300)
}

/// Deterministic pseudo-random scores in [lo, hi) (a small LCG: the test needs no statistical quality).
func scores(_ n: Int, seed: UInt64, lower: Float = -1, upper: Float = 1) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<n).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let unit = Float(state >> 40) / Float(1 << 24)
        return lower + (upper - lower) * unit
    }
}

@Test func valuesOnEdgesFollowTheDocumentedRule() throws {
    let spec = HistogramSpec.cosine  // 200 bins of 0.01 on [-1, 1]
    #expect(spec.position(of: -1) == .bin(0))           // lower edge: first bin
    #expect(spec.position(of: 1) == .bin(199))          // upper edge: LAST bin, not overflow
    #expect(spec.position(of: 0) == .bin(100))          // interior edge: the bin above
    #expect(spec.position(of: -0.5) == .bin(50))
    #expect(spec.position(of: 0.5) == .bin(150))
    #expect(spec.position(of: 0.25) == .bin(125))
    #expect(spec.position(of: Double(Float(1).nextDown)) == .bin(199))
    #expect(spec.position(of: Double(Float(1).nextUp)) == .overflow)
    #expect(spec.position(of: Double(Float(-1).nextDown)) == .underflow)
    #expect(spec.position(of: .infinity) == .overflow)
    #expect(spec.position(of: -.infinity) == .underflow)
    #expect(spec.position(of: .nan) == .nan)

    // A power-of-two spec where every edge is exact: [0, 1] in 8 bins.
    let eighths = try HistogramSpec(lower: 0, upper: 1, bins: 8)
    for i in 0..<8 { #expect(eighths.position(of: Double(i) / 8) == .bin(i)) }
    #expect(eighths.position(of: 1) == .bin(7))

    // The fast fill applies the same rule.
    var h = ScoreHistogram(spec: spec)
    h.fill([-1, 1, 0, -0.5, 0.5, 0.25, Float(1).nextUp, Float(-1).nextDown], threads: 1)
    #expect(h.counts[0] == 1 && h.counts[199] == 1 && h.counts[100] == 1)
    #expect(h.counts[50] == 1 && h.counts[150] == 1 && h.counts[125] == 1)
    #expect(h.underflow == 1 && h.overflow == 1 && h.count == 8)
}

@Test func underflowOverflowAndNaNAreCountedApart() {
    var h = ScoreHistogram(spec: .cosine)
    let values: [Float] = [-3, -1.5, .infinity, 2, 0.1, .nan, -.infinity, .nan, 0.2, 1.0001]
    h.fill(values, threads: 1)
    #expect(h.underflow == 3)          // -3, -1.5, -inf
    #expect(h.overflow == 3)           // +inf, 2, 1.0001
    #expect(h.nanCount == 2)
    #expect(h.count == 8)              // NaN excluded
    #expect(h.counts.reduce(0, +) == 2)
    #expect(h.minimum == -.infinity && h.maximum == .infinity)

    // NaN never reaches the moments.
    var finite = ScoreHistogram(spec: .cosine)
    finite.fill([0.5, .nan, -0.25, .nan, .nan], threads: 1)
    #expect(finite.count == 2 && finite.nanCount == 3)
    #expect(finite.sum == 0.25)
    #expect(finite.sumOfSquares == 0.3125)
    #expect(finite.minimum == -0.25 && finite.maximum == 0.5)
    #expect(finite.mean == 0.125)
    #expect(nearlyEqual(finite.variance, 0.28125))  // ((0.5-0.125)² + (-0.25-0.125)²) / 1
}

@Test func momentsAreExactAndIndependentOfBinning() throws {
    let values = scores(10_001, seed: 3, lower: -2, upper: 2)
    var coarse = ScoreHistogram(spec: try HistogramSpec(lower: -1, upper: 1, bins: 3))
    var fine = ScoreHistogram(spec: .cosine)
    coarse.fill(values, threads: 1)
    fine.fill(values, threads: 1)
    var sum = 0.0, squares = 0.0
    for v in values {
        sum += Double(v)
        squares += Double(v) * Double(v)
    }
    for h in [coarse, fine] {
        #expect(h.count == values.count)
        #expect(nearlyEqual(h.sum, sum) && nearlyEqual(h.sumOfSquares, squares))
        #expect(h.minimum == Double(values.min()!) && h.maximum == Double(values.max()!))
        #expect(h.counts.reduce(0) { $0 + Int($1) } + h.underflow + h.overflow == h.count)
    }
}

@Test func fastFillMatchesTheOneValueAtATimeTwin() throws {
    // Odd length (tail path), values spread beyond the edges, and some NaNs; a non-nice spec.
    var values = scores(70_003, seed: 11, lower: -3.5, upper: 2)
    for i in stride(from: 5, to: values.count, by: 977) { values[i] = .nan }
    values[17] = 1.5  // exactly the upper edge of the transformed spec
    values[18] = -3   // exactly the lower edge
    let spec = HistogramSpec.transformed
    var fast = ScoreHistogram(spec: spec)
    fast.fill(values, threads: 2)
    var plain = ScoreHistogram(spec: spec)
    for v in values { plain.add(v) }
    #expect(fast.counts == plain.counts)
    #expect(fast.underflow == plain.underflow && fast.overflow == plain.overflow)
    #expect(fast.nanCount == plain.nanCount && fast.count == plain.count)
    #expect(fast.minimum == plain.minimum && fast.maximum == plain.maximum)
    #expect(nearlyEqual(fast.sum, plain.sum) && nearlyEqual(fast.sumOfSquares, plain.sumOfSquares))
    #expect(fast.counts[199] >= 1 && fast.counts[0] >= 1)
}

@Test func fillIsBitIdenticalForAnyThreadCount() {
    let values = scores(200_000, seed: 5)  // above the parallel threshold: 16 chunks
    var results: [ScoreHistogram] = []
    for threads in [1, 2, 3, 8] {
        var h = ScoreHistogram()
        h.fill(values, threads: threads)
        results.append(h)
    }
    for h in results.dropFirst() {
        #expect(h == results[0])
        #expect(h.sum.bitPattern == results[0].sum.bitPattern)
        #expect(h.sumOfSquares.bitPattern == results[0].sumOfSquares.bitPattern)
    }
}

@Test func fillAccumulatesAndMergeAddsUp() throws {
    let a = scores(1000, seed: 1), b = scores(3000, seed: 2)
    var both = ScoreHistogram()
    both.fill(a, threads: 1)
    both.fill(b, threads: 1)
    var first = ScoreHistogram(), second = ScoreHistogram()
    first.fill(a, threads: 1)
    second.fill(b, threads: 1)
    try first.merge(second)
    #expect(first == both)
    #expect(throws: RecordingError.self) { try first.merge(ScoreHistogram(spec: .transformed)) }
    let full = try ScoreHistogram(spec: try HistogramSpec(lower: 0, upper: 1, bins: 1), counts: [UInt32.max], underflow: 0,
                                  overflow: 0, nanCount: 0, count: Int(UInt32.max), sum: 0, sumOfSquares: 0,
                                  minimum: 0, maximum: 1)
    var copy = full
    #expect(throws: RecordingError.self) { try copy.merge(full) }  // no silent wrap-around
    #expect(copy == full)
}

@Test func quantilesReadFromBinsAreWithinOneBin() throws {
    let values = scores(100_000, seed: 9, lower: -0.5, upper: 0.9)
    var h = ScoreHistogram()
    h.fill(values, threads: 2)
    let sorted = values.sorted()
    for q in [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0] {
        let exact = Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))])
        #expect(abs(h.quantile(q) - exact) <= h.spec.binWidth, "q \(q): \(h.quantile(q)) vs \(exact)")
    }
    #expect(h.quantile(0) == h.minimum && h.quantile(1) == h.maximum)
    #expect(ScoreHistogram().quantile(0.5).isNaN)
}

@Test func badSpecsAndInconsistentPartsAreRejected() throws {
    #expect(throws: RecordingError.self) { try HistogramSpec(lower: 1, upper: 1, bins: 10) }
    #expect(throws: RecordingError.self) { try HistogramSpec(lower: 0, upper: .infinity, bins: 10) }
    #expect(throws: RecordingError.self) { try HistogramSpec(lower: 0, upper: 1, bins: 0) }
    let spec = try HistogramSpec(lower: 0, upper: 1, bins: 2)
    #expect(throws: RecordingError.self) {
        try ScoreHistogram(spec: spec, counts: [1, 2], underflow: 0, overflow: 0, nanCount: 0, count: 4,
                           sum: 0, sumOfSquares: 0, minimum: 0, maximum: 1)
    }
    #expect(throws: RecordingError.self) {
        try ScoreHistogram(spec: spec, counts: [1], underflow: 0, overflow: 0, nanCount: 0, count: 1,
                           sum: 0, sumOfSquares: 0, minimum: 0, maximum: 1)
    }
    let decoded = try JSONDecoder().decode(HistogramSpec.self, from: Data(#"{"lower":-1,"upper":1,"bins":200}"#.utf8))
    #expect(decoded == .cosine)
    #expect(throws: (any Error).self) {
        try JSONDecoder().decode(HistogramSpec.self, from: Data(#"{"lower":1,"upper":-1,"bins":200}"#.utf8))
    }
}
