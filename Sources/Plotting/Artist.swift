// Artist: what every drawable element of an Axes provides (data extent for auto limits, drawing through a
// DrawContext, a legend entry, the page points it covers so legends can avoid data). Also the shared helpers
// artists use: validation, NaN/Inf counting, splitting series at gaps. It deliberately does not lay out axes.

import Foundation

/// The data rectangle an artist covers; `sticky` edges get no auto-padding (bars stand on their baseline).
struct DataExtent: Equatable, Sendable {
    var xMin: Double, xMax: Double, yMin: Double, yMax: Double
    var stickyXMin = false, stickyXMax = false, stickyYMin = false, stickyYMax = false

    func union(_ o: DataExtent) -> DataExtent {
        var r = DataExtent(xMin: Swift.min(xMin, o.xMin), xMax: Swift.max(xMax, o.xMax),
                           yMin: Swift.min(yMin, o.yMin), yMax: Swift.max(yMax, o.yMax))
        r.stickyXMin = xMin < o.xMin ? stickyXMin : o.xMin < xMin ? o.stickyXMin : stickyXMin || o.stickyXMin
        r.stickyXMax = xMax > o.xMax ? stickyXMax : o.xMax > xMax ? o.stickyXMax : stickyXMax || o.stickyXMax
        r.stickyYMin = yMin < o.yMin ? stickyYMin : o.yMin < yMin ? o.stickyYMin : stickyYMin || o.stickyYMin
        r.stickyYMax = yMax > o.yMax ? stickyYMax : o.yMax > yMax ? o.stickyYMax : stickyYMax || o.stickyYMax
        return r
    }

    /// Extent of the drawable points, nil when there are none.
    static func of(x: [Double], y: [Double], xScale: Scale, yScale: Scale) -> DataExtent? {
        var xMin = Double.infinity, xMax = -Double.infinity, yMin = Double.infinity, yMax = -Double.infinity
        for i in 0..<Swift.min(x.count, y.count) where xScale.accepts(x[i]) && yScale.accepts(y[i]) {
            xMin = Swift.min(xMin, x[i]); xMax = Swift.max(xMax, x[i])
            yMin = Swift.min(yMin, y[i]); yMax = Swift.max(yMax, y[i])
        }
        return xMin <= xMax ? DataExtent(xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax) : nil
    }
}

/// What an artist draws with: the renderer, the data-to-page maps and the plot rectangle.
struct DrawContext {
    let renderer: any Renderer
    let x: AxisMap
    let y: AxisMap
    let plot: Rect
    let style: Style

    func point(_ xv: Double, _ yv: Double) -> Point { Point(x(xv), y(yv)) }
}

/// The symbol a legend shows for an entry.
public enum LegendSymbol: Equatable, Sendable {
    case line(color: Color, width: Double, dash: Dash)
    case marker(color: Color, shape: MarkerShape, size: Double)
    /// A filled square; `edge` draws its outline.
    case patch(fill: Color, edge: Color?)
}

/// One legend row.
public struct LegendEntry: Equatable, Sendable {
    public var label: String
    public var symbol: LegendSymbol
}

/// Scatter marker shapes.
public enum MarkerShape: Sendable, Equatable { case circle, square, triangle, diamond }

protocol Artist: Sendable {
    /// Extent of the drawable data on these scales, nil when nothing can be drawn.
    func extent(xScale: Scale, yScale: Scale) -> DataExtent?
    func draw(_ context: DrawContext)
    /// Page points covered by the drawing (sampled), so a legend can go where it hides least.
    func coveredPoints(_ context: DrawContext) -> [Point]
    var legendEntries: [LegendEntry] { get }
    /// Finite values that the given scales cannot show (≤ 0 on a log axis).
    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int
}

enum Validate {
    static func nonEmpty(_ count: Int, _ what: String) throws(PlotError) {
        if count == 0 { throw .emptyData(what: what) }
    }
    static func sameLength(_ a: Int, _ b: Int, _ what: String) throws(PlotError) {
        if a != b { throw .lengthMismatch(what: what, expected: a, actual: b) }
    }
    static func edges(_ edges: [Double], _ what: String) throws(PlotError) {
        if edges.count < 2 { throw .emptyData(what: what) }
        for i in 0..<edges.count where !edges[i].isFinite || (i > 0 && edges[i] <= edges[i - 1]) {
            throw .invalidEdges(what: what)
        }
    }
    static func positive(_ value: Double, _ what: String) throws(PlotError) {
        if !(value > 0) || !value.isFinite { throw .invalidParameter(what: "\(what) must be positive and finite, got \(value)") }
    }
    static func name(_ kind: String, _ label: String?) -> String {
        label.map { "\(kind) '\($0)'" } ?? kind
    }
}

/// Splitting series into drawable runs.
enum Runs {
    /// Index ranges of consecutive points that both scales accept; a skipped point breaks the line.
    static func drawable(x: [Double], y: [Double], xScale: Scale, yScale: Scale) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start: Int?
        let n = Swift.min(x.count, y.count)
        for i in 0..<n {
            if xScale.accepts(x[i]) && yScale.accepts(y[i]) {
                if start == nil { start = i }
            } else if let s = start {
                runs.append(s..<i); start = nil
            }
        }
        if let s = start { runs.append(s..<n) }
        return runs
    }

    /// Points along a polyline, at most `spacing` apart, for legend-overlap counting.
    static func sample(_ points: [Point], spacing: Double = 4) -> [Point] {
        guard points.count > 1 else { return points }
        var out: [Point] = [points[0]]
        for i in 1..<points.count {
            let a = points[i - 1], b = points[i]
            let steps = Swift.min(200, Int((hypot(b.x - a.x, b.y - a.y) / spacing).rounded(.up)))
            if steps > 1 {
                for s in 1..<steps {
                    let t = Double(s) / Double(steps)
                    out.append(Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
                }
            }
            out.append(b)
        }
        return out
    }
}

/// Counts of values that could not be drawn.
public struct SkippedPoints: Equatable, Sendable {
    /// NaN or ±Inf values given to artists (counted when the data is added).
    public var nonFinite: Int = 0
    /// Finite values outside a log axis' domain (≤ 0), counted for the current scales.
    public var outsideLogDomain: Int = 0
    public init(nonFinite: Int = 0, outsideLogDomain: Int = 0) {
        self.nonFinite = nonFinite; self.outsideLogDomain = outsideLogDomain
    }
    public var total: Int { nonFinite + outsideLogDomain }
}

func countNonFinite(_ arrays: [Double]...) -> Int {
    arrays.reduce(0) { total, array in total + array.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
}

func countOutside(_ values: [Double], _ scale: Scale) -> Int {
    scale == .log ? values.reduce(0) { $0 + ($1.isFinite && $1 <= 0 ? 1 : 0) } : 0
}

/// Points (indices) where any of the given arrays holds NaN or ±Inf.
func countNonFinitePoints(_ arrays: [Double]...) -> Int {
    let n = arrays.map(\.count).min() ?? 0
    var skipped = 0
    for i in 0..<n where arrays.contains(where: { !$0[i].isFinite }) { skipped += 1 }
    return skipped
}
