// Small, exact statistics used by the stability analysis: means, unbiased variances, medians, least-squares
// slopes, average ranks, Pearson and Spearman correlation, the Student t distribution (CDF and quantile through
// the regularised incomplete beta function, implemented here) and t confidence intervals.
// Conventions: every function skips NaN inputs (pairwise for two-sample functions) and returns NaN when too
// few values remain; variances and standard deviations are unbiased (divisor n − 1).
// Deliberately not here: resampling methods, weighted statistics, or anything needing a numerics dependency.
import Foundation

/// Descriptive statistics on plain arrays (NaN-skipping; see the file header).
public enum DescriptiveStatistics {
    /// Arithmetic mean of the non-NaN values (NaN when there are none).
    public static func mean(_ values: [Double]) -> Double {
        var sum = 0.0, count = 0
        for v in values where !v.isNaN {
            sum += v
            count += 1
        }
        return count > 0 ? sum / Double(count) : .nan
    }

    /// Unbiased variance (two-pass) of the non-NaN values (NaN for fewer than 2).
    public static func variance(_ values: [Double]) -> Double {
        let xs = values.filter { !$0.isNaN }
        guard xs.count > 1 else { return .nan }
        let m = xs.reduce(0, +) / Double(xs.count)
        return xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    }

    /// Unbiased standard deviation of the non-NaN values (NaN for fewer than 2).
    public static func standardDeviation(_ values: [Double]) -> Double { variance(values).squareRoot() }

    /// Median of the non-NaN values (mean of the two middle ones for an even count; NaN when empty).
    public static func median(_ values: [Double]) -> Double {
        let xs = values.filter { !$0.isNaN }.sorted()
        guard !xs.isEmpty else { return .nan }
        let mid = xs.count / 2
        return xs.count % 2 == 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
    }

    /// Least-squares slope of y on x over the pairs where neither is NaN (NaN for fewer than 2 distinct x).
    public static func slope(x: [Double], y: [Double]) -> Double {
        let pairs = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }
        guard pairs.count > 1 else { return .nan }
        let n = Double(pairs.count)
        let mx = pairs.reduce(0) { $0 + $1.0 } / n, my = pairs.reduce(0) { $0 + $1.1 } / n
        var sxy = 0.0, sxx = 0.0
        for (a, b) in pairs {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
        }
        return sxx > 0 ? sxy / sxx : .nan
    }

    /// 1-based ranks with ties given the average of the ranks they span (values must not be NaN).
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start...end { result[order[k]] = rank }
            start = end + 1
        }
        return result
    }

    /// Pearson correlation over the pairs where neither is NaN (NaN for fewer than 2 pairs or zero variance).
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let pairs = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }
        guard pairs.count > 1 else { return .nan }
        let n = Double(pairs.count)
        let mx = pairs.reduce(0) { $0 + $1.0 } / n, my = pairs.reduce(0) { $0 + $1.1 } / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in pairs {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman rank correlation: Pearson correlation of the average ranks (ties averaged), over the pairs
    /// where neither is NaN. NaN for fewer than 2 pairs or when either side is constant.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        let pairs = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }
        guard pairs.count > 1 else { return .nan }
        return pearson(ranks(pairs.map(\.0)), ranks(pairs.map(\.1)))
    }
}

/// Student's t distribution.
public enum StudentT {
    /// P(T ≤ t) for `degreesOfFreedom` ν > 0 (NaN otherwise).
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, !t.isNaN else { return .nan }
        if t.isInfinite { return t > 0 ? 1 : 0 }
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The p-quantile (0 < p < 1) for ν > 0 degrees of freedom, to about 1e-12 relative (NaN outside the domain).
    /// Solved by bisection on `cdf`; ν = 1 and ν = 2 have closed forms used as checks in the tests.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, p > 0, p < 1 else { return .nan }
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: nu) }
        var low = 0.0, high = 1.0
        while cdf(high, degreesOfFreedom: nu) < p {
            low = high
            high *= 2
            if high > 1e300 { return .infinity }
        }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if cdf(mid, degreesOfFreedom: nu) < p { low = mid } else { high = mid }
            if high - low <= 1e-15 * high { break }
        }
        return (low + high) / 2
    }
}

/// I_x(a, b), the regularised incomplete beta function (continued fraction, modified Lentz; Numerical
/// Recipes §6.4), accurate to about 1e-14 for the arguments the t distribution uses.
func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
    if x < (a + 1) / (a + b + 2) {
        return exp(logFront) * betaContinuedFraction(x, a: a, b: b) / a
    }
    return 1 - exp(logFront) * betaContinuedFraction(1 - x, a: b, b: a) / b
}

private func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300, epsilon = 1e-16
    var c = 1.0
    var d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...10_000 {
        let m = Double(m), m2 = 2 * m
        var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
        d = 1 + aa * d
        if abs(d) < tiny { d = tiny }
        c = 1 + aa / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
        d = 1 + aa * d
        if abs(d) < tiny { d = tiny }
        c = 1 + aa / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        h *= delta
        if abs(delta - 1) < epsilon { break }
    }
    return h
}

/// A mean with a two-sided Student t confidence interval.
public struct ConfidenceInterval: Codable, Hashable, Sendable {
    /// Mean of the non-NaN values.
    public var mean: Double
    /// Half-width t_{(1+level)/2, n−1} · s / √n (NaN for n < 2).
    public var halfWidth: Double
    /// Number of non-NaN values.
    public var count: Int
    /// Confidence level (default 0.95).
    public var level: Double

    /// The interval of `values` (NaNs skipped) at `level` (default 0.95).
    public init(values: [Double], level: Double = 0.95) {
        let xs = values.filter { !$0.isNaN }
        count = xs.count
        self.level = level
        mean = DescriptiveStatistics.mean(xs)
        if xs.count > 1 {
            let t = StudentT.quantile((1 + level) / 2, degreesOfFreedom: Double(xs.count - 1))
            halfWidth = t * DescriptiveStatistics.standardDeviation(xs) / Double(xs.count).squareRoot()
        } else {
            halfWidth = .nan
        }
    }

    /// mean − halfWidth.
    public var lower: Double { mean - halfWidth }
    /// mean + halfWidth.
    public var upper: Double { mean + halfWidth }
}
