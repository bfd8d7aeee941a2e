// Descriptive statistics, Student t quantiles against published values, intervals, ranks and Spearman.
import Foundation
import Testing
@testable import Analysis

/// Relative tolerance for closed-form or tabulated values (tables give 6–9 digits).
func near(_ a: Double, _ b: Double, _ relative: Double = 1e-9) -> Bool {
    a == b || abs(a - b) <= relative * max(abs(a), abs(b))
}

@Test func studentQuantilesMatchPublishedValues() {
    // Two-sided 95 % critical values t_{0.975, ν} (NIST/SEMATECH table, 9 digits where given).
    let table: [(Double, Double)] = [(1, 12.7062047), (2, 4.30265273), (3, 3.18244631), (4, 2.77644511),
                                     (5, 2.57058184), (9, 2.26215716), (10, 2.22813885), (30, 2.04227246),
                                     (100, 1.98397152)]
    for (nu, value) in table {
        #expect(near(StudentT.quantile(0.975, degreesOfFreedom: nu), value, 1e-7), "ν = \(nu)")
    }
    #expect(near(StudentT.quantile(0.95, degreesOfFreedom: 3), 2.35336343, 1e-7))
    #expect(near(StudentT.quantile(0.995, degreesOfFreedom: 7), 3.49948330, 1e-7))
    // Closed forms: ν = 1 is Cauchy, ν = 2 has t = (2p − 1) / sqrt(2p(1 − p)).
    for p in [0.6, 0.9, 0.975, 0.999] {
        #expect(near(StudentT.quantile(p, degreesOfFreedom: 1), tan(.pi * (p - 0.5)), 1e-10))
        #expect(near(StudentT.quantile(p, degreesOfFreedom: 2), (2 * p - 1) / (2 * p * (1 - p)).squareRoot(), 1e-10))
    }
    // Large ν tends to the normal quantile 1.959963985.
    #expect(near(StudentT.quantile(0.975, degreesOfFreedom: 1e7), 1.959963985, 1e-6))
    #expect(near(StudentT.quantile(0.025, degreesOfFreedom: 4), -2.77644511, 1e-7))
    #expect(StudentT.quantile(0.5, degreesOfFreedom: 3) == 0)
    #expect(StudentT.quantile(1, degreesOfFreedom: 3).isNaN && StudentT.quantile(0.9, degreesOfFreedom: 0).isNaN)
    #expect(near(StudentT.cdf(2.22813885, degreesOfFreedom: 10), 0.975, 1e-8))
}

@Test func confidenceIntervalUsesTheTQuantile() {
    let values = [0.50, 0.52, 0.55, 0.51]
    let ci = ConfidenceInterval(values: values)
    let mean = 0.52
    let s = ((0.0004 + 0 + 0.0009 + 0.0001) / 3).squareRoot()
    #expect(near(ci.mean, mean, 1e-12))
    #expect(near(ci.halfWidth, 3.18244631 * s / 2, 1e-7))
    #expect(ci.count == 4 && near(ci.lower, mean - ci.halfWidth, 1e-12))
    #expect(ConfidenceInterval(values: [0.7]).halfWidth.isNaN)
    #expect(ConfidenceInterval(values: [0.7, .nan]).count == 1)
}

@Test func ranksAverageTiesAndSpearmanHandlesThem() {
    #expect(DescriptiveStatistics.ranks([10, 20, 20, 5, 20]) == [2, 4, 4, 1, 4])
    #expect(DescriptiveStatistics.ranks([3, 1, 2]) == [3, 1, 2])
    // Monotone but non-linear: ρ = 1 (Pearson would be below 1).
    #expect(DescriptiveStatistics.spearman([1, 2, 3, 4, 5], [1, 8, 27, 64, 125]) == 1)
    #expect(DescriptiveStatistics.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
    // A textbook case with ties: x = [1, 2, 2, 3], y = [1, 3, 2, 4] → ranks x [1, 2.5, 2.5, 4], y [1, 3, 2, 4].
    // Centred ranks: x (−1.5, 0, 0, 1.5), y (−1.5, 0.5, −0.5, 1.5): Sxy = 4.5, Sxx = 4.5, Syy = 5 → ρ = 4.5/√22.5.
    #expect(near(DescriptiveStatistics.spearman([1, 2, 2, 3], [1, 3, 2, 4]), 0.9486832981, 1e-9))
    #expect(DescriptiveStatistics.spearman([1, 1, 1], [1, 2, 3]).isNaN)  // constant side
    #expect(DescriptiveStatistics.spearman([1, .nan, 3, 4], [2, 9, 5, 7]) == 1)  // NaN pairs dropped
}

@Test func basicStatisticsSkipNaN() {
    #expect(DescriptiveStatistics.mean([1, .nan, 3]) == 2)
    #expect(DescriptiveStatistics.variance([1, 2, 3, 4]) == 5.0 / 3)
    #expect(DescriptiveStatistics.median([5, 1, .nan, 3]) == 3)
    #expect(DescriptiveStatistics.median([4, 1, 3, 2]) == 2.5)
    #expect(near(DescriptiveStatistics.slope(x: [0, 1, 2, 3], y: [1, 3, 5, 7]), 2, 1e-12))
    #expect(DescriptiveStatistics.slope(x: [1, 1], y: [0, 5]).isNaN)
    #expect(near(DescriptiveStatistics.pearson([1, 2, 3], [2, 4, 7]), 0.9933992678, 1e-9))
}
