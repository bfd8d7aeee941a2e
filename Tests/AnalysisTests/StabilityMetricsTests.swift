// Stability metrics on hand-made series with known answers.
import Foundation
import Testing
@testable import Analysis

@Test func aLinearRampHasItsSlopeAsDriftAndZeroRoughness() {
    let steps = Array(stride(from: 100, to: 2100, by: 10))           // 200 points, every 10 steps
    let values = steps.map { 0.2 + 3e-5 * Double($0) }                 // +0.03 per 1k steps
    let m = SeriesMetrics(steps: steps, values: values)
    #expect(near(m.drift, 0.03, 1e-9))
    #expect(abs(m.roughness) < 1e-15)
    #expect(abs(m.excursion) < 1e-12)                                   // centred windows: median = value
    #expect(near(m.level, 0.2 + 3e-5 * 1095, 1e-12))
    // 5 blocks of 40 points: block means step by 40·10·3e-5 = 0.012; std of (0, .012, …, .048) = 0.012·sqrt(2.5).
    #expect(near(m.spread, 0.012 * 2.5.squareRoot(), 1e-9))
    #expect(m.count == 200)
}

@Test func aConstantSeriesIsPerfectlyStable() {
    let m = SeriesMetrics(steps: Array(1...50), values: Array(repeating: 0.42, count: 50))
    #expect(near(m.level, 0.42, 1e-14))
    #expect(m.drift == 0 && m.roughness == 0 && m.excursion == 0 && m.spread == 0)
}

@Test func anAlternatingSeriesIsRoughButDriftless() {
    // ±0.1 around 0.5: differences alternate −0.2, +0.2 → roughness = sample std of ±0.2 (n = 99).
    let values = (0..<100).map { $0 % 2 == 0 ? 0.6 : 0.4 }
    let m = SeriesMetrics(steps: Array(0..<100), values: values)
    let diffs = zip(values.dropFirst(), values).map { $0 - $1 }
    let mean = diffs.reduce(0, +) / Double(diffs.count)
    let expected = (diffs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(diffs.count - 1)).squareRoot()
    #expect(near(m.roughness, expected, 1e-12) && m.roughness > 0.19)
    // Least squares on x = 0…99: each (even, odd) pair adds −0.1 to Sxy (50 pairs → −5); Sxx = 100·(100² − 1)/12.
    #expect(near(m.drift, -5 / 83_325 * 1000, 1e-9))
    #expect(near(m.level, 0.5, 1e-12))
}

@Test func aSingleSpikeIsTheExcursion() {
    var values = Array(repeating: 0.01, count: 101)
    values[60] = 0.41
    let m = SeriesMetrics(steps: Array(0..<101), values: values, rollingWindow: 11)
    #expect(near(m.excursion, 0.4, 1e-12))
    #expect(near(StabilityMetrics.rollingMedianExcursion([1, 1, 9, 1, 1], window: 3), 8, 1e-12))
    #expect(StabilityMetrics.rollingMedianExcursion([9, 1, 1, 1, 1], window: 3) == 0)   // an end point is not scored
    #expect(StabilityMetrics.rollingMedianExcursion([1, 9, 1], window: 25) == 8)        // window shrinks to fit
}

@Test func nanPointsAreDroppedBeforeTheMetrics() {
    let steps = Array(0..<10)
    var values = steps.map { Double($0) * 0.001 }
    values[4] = .nan
    let m = SeriesMetrics(steps: steps, values: values)
    #expect(m.count == 9)
    #expect(near(m.drift, 1.0, 1e-9))   // 0.001 per step = 1 per 1k steps
    #expect(!m.roughness.isNaN)
}

@Test func blockSpreadNeedsEnoughPoints() {
    #expect(StabilityMetrics.blockSpread([1, 2, 3], blocks: 5).isNaN)
    #expect(near(StabilityMetrics.blockSpread([1, 1, 3, 3], blocks: 2), 2.0.squareRoot(), 1e-12))
}
