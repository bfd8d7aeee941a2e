// Stability metrics of one series (a score statistic against the training step), after the warm-up:
//   level       mean of the values;
//   drift       least-squares slope of value on step, per 1,000 steps;
//   roughness   unbiased standard deviation of the differences between consecutive points;
//   excursion   largest |x_i − median of the 2h + 1 points centred on i|, over the points whose whole window
//               fits (the first and last h points are only neighbours);
//   spread      unbiased standard deviation of the means of `windowCount` equal consecutive blocks.
// NaN points are dropped first (a NULL cell or a diverged step does not poison the metrics). A linear ramp has
// drift = its slope × 1000, roughness 0 and excursion 0, and a constant series has
// zeros everywhere except level.
// Deliberately not here: reading series (RunAnalysis.swift) or choosing what counts as stable (tables report
// numbers, readers judge).
import Foundation

/// The metrics of one series (see the file header for definitions).
public struct SeriesMetrics: Codable, Hashable, Sendable {
    public var level: Double
    public var drift: Double
    public var roughness: Double
    public var excursion: Double
    public var spread: Double
    /// Points the metrics were computed from (after the warm-up, NaNs dropped).
    public var count: Int

    /// The value of one metric.
    public subscript(_ kind: MetricKind) -> Double {
        switch kind {
        case .level: return level
        case .drift: return drift
        case .roughness: return roughness
        case .excursion: return excursion
        case .spread: return spread
        }
    }

    /// Computes the metrics of `values` at `steps` (parallel arrays, steps ascending). `rollingWindow` is the
    /// width in points of the rolling median (default 25; an even width w acts as w + 1); `windowCount` the number
    /// of blocks for the spread (default 5).
    public init(steps: [Int], values: [Double], rollingWindow: Int = 25, windowCount: Int = 5) {
        let points = zip(steps, values).filter { !$0.1.isNaN }
        let xs = points.map(\.1)
        count = xs.count
        level = DescriptiveStatistics.mean(xs)
        drift = DescriptiveStatistics.slope(x: points.map { Double($0.0) }, y: xs) * 1000
        roughness = xs.count > 2 ? DescriptiveStatistics.standardDeviation(zip(xs.dropFirst(), xs).map { $0 - $1 }) : .nan
        excursion = StabilityMetrics.rollingMedianExcursion(xs, window: rollingWindow)
        spread = StabilityMetrics.blockSpread(xs, blocks: windowCount)
    }
}

/// The metric names, as used in `--metric series.metric` selectors and table headers.
public enum MetricKind: String, CaseIterable, Codable, Hashable, Sendable {
    case level, drift, roughness, excursion, spread
}

/// The building blocks of `SeriesMetrics`, public for reuse in figures.
public enum StabilityMetrics {
    /// Largest absolute deviation of a point from the median of the centred window of `window` points around it
    /// (made odd by adding 1 when even). Only points whose whole window fits are scored, so a straight line
    /// scores 0; a series shorter than the window uses the largest odd window that fits. NaN when empty.
    public static func rollingMedianExcursion(_ values: [Double], window: Int) -> Double {
        guard !values.isEmpty else { return .nan }
        var half = max(0, window) / 2
        half = min(half, (values.count - 1) / 2)
        var largest = 0.0
        var buffer: [Double] = []
        buffer.reserveCapacity(2 * half + 1)
        for i in half..<(values.count - half) {
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: values[(i - half)...(i + half)])
            buffer.sort()
            largest = max(largest, abs(values[i] - buffer[half]))
        }
        return largest
    }

    /// Standard deviation of the means of `blocks` equal consecutive blocks (block b holds points
    /// [b·n/blocks, (b+1)·n/blocks)); NaN when there are fewer points than blocks or fewer than 2 blocks.
    public static func blockSpread(_ values: [Double], blocks: Int) -> Double {
        guard blocks >= 2, values.count >= blocks else { return .nan }
        let n = values.count
        let means = (0..<blocks).map { b in
            DescriptiveStatistics.mean(Array(values[(b * n / blocks)..<((b + 1) * n / blocks)]))
        }
        return DescriptiveStatistics.standardDeviation(means)
    }
}
