// Envelope: reduction of long series (100k+ points) to one column per device pixel, keeping each column's
// minimum, maximum and mean, so spikes survive and the trend stays readable. It deliberately never keeps
// "every n-th point", which hides spikes, and never reorders: x must be non-decreasing within a run.

import Foundation

/// One pixel column of a reduced series, in data units.
public struct EnvelopeColumn: Equatable, Sendable {
    /// Mean x of the points in the column.
    public var x: Double
    public var minimum: Double
    public var maximum: Double
    /// Mean y of the points in the column.
    public var mean: Double
    public var count: Int
}

public enum Envelope {
    /// Groups points `x[range]`, `y[range]` (x non-decreasing) into page columns `columnWidth` points wide, using
    /// `map` to place x on the page. Columns with no points are absent.
    public static func reduce(x: [Double], y: [Double], range: Range<Int>, map: AxisMap,
                              columnWidth: Double) -> [EnvelopeColumn] {
        var columns: [EnvelopeColumn] = []
        var current = -Int.max
        var sumX = 0.0, sumY = 0.0, lo = 0.0, hi = 0.0, count = 0
        func flush() {
            if count > 0 {
                columns.append(EnvelopeColumn(x: sumX / Double(count), minimum: lo, maximum: hi,
                                              mean: sumY / Double(count), count: count))
            }
        }
        for i in range {
            let column = Int(floor((map(x[i]) - map.start) / columnWidth))
            if column != current {
                flush()
                current = column; sumX = 0; sumY = 0; lo = y[i]; hi = y[i]; count = 0
            }
            sumX += x[i]; sumY += y[i]; count += 1
            lo = Swift.min(lo, y[i]); hi = Swift.max(hi, y[i])
        }
        flush()
        return columns
    }

    /// True when `x[range]` never decreases (the envelope needs that).
    static func isNonDecreasing(_ x: [Double], _ range: Range<Int>) -> Bool {
        var previous = -Double.infinity
        for i in range {
            if x[i] < previous { return false }
            previous = x[i]
        }
        return true
    }
}
