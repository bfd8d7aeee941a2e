// LineArtist: a polyline through (x, y), broken at NaN/Inf (and at values a log axis cannot show). Series
// with more points than pixel columns are drawn as a min/max envelope per column plus the column mean.
// It deliberately does not smooth or resample otherwise.

import Foundation

struct LineArtist: Artist {
    let x: [Double]
    let y: [Double]
    let label: String?
    let color: Color
    let width: Double
    let dash: Dash

    /// One drawable run: a polyline, and for reduced runs the envelope's upper and lower edges.
    struct Piece {
        var line: [Point]
        var upper: [Point] = []
        var lower: [Point] = []
    }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? { DataExtent.of(x: x, y: y, xScale: xScale, yScale: yScale) }

    func pieces(_ context: DrawContext) -> [Piece] {
        Runs.drawable(x: x, y: y, xScale: context.x.scale, yScale: context.y.scale).map { run in
            let span = abs(context.x(x[run.upperBound - 1]) - context.x(x[run.lowerBound]))
            let columns = Swift.max(1, span * context.renderer.pixelsPerPoint)
            if Double(run.count) > 2 * columns, Envelope.isNonDecreasing(x, run) {
                let reduced = Envelope.reduce(x: x, y: y, range: run, map: context.x,
                                              columnWidth: 1 / context.renderer.pixelsPerPoint)
                return Piece(line: reduced.map { context.point($0.x, $0.mean) },
                             upper: reduced.map { context.point($0.x, $0.maximum) },
                             lower: reduced.map { context.point($0.x, $0.minimum) })
            }
            return Piece(line: run.map { context.point(x[$0], y[$0]) })
        }
    }

    func draw(_ context: DrawContext) {
        for piece in pieces(context) {
            if !piece.upper.isEmpty {
                var envelope = Path.polyline(piece.upper)
                for p in piece.lower.reversed() { envelope.line(to: p) }
                envelope.close()
                context.renderer.fill(envelope, color: color.withAlpha(0.22 * color.alpha))
                // A hairline along both edges keeps one-column spikes visible even where the fill is thin.
                let edge = StrokeStyle(color: color.withAlpha(0.45 * color.alpha), width: 0.3)
                context.renderer.stroke(.polyline(piece.upper), style: edge)
                context.renderer.stroke(.polyline(piece.lower), style: edge)
            }
            if piece.line.count == 1 {   // a lone point between gaps: a dot, so it is not lost
                var dot = Path(); dot.addCircle(center: piece.line[0], radius: width * 0.75)
                context.renderer.fill(dot, color: color)
            } else {
                context.renderer.stroke(.polyline(piece.line), style: StrokeStyle(color: color, width: width, dash: dash))
            }
        }
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        pieces(context).flatMap { Runs.sample($0.line) + Runs.sample($0.upper) + Runs.sample($0.lower) }
    }

    var legendEntries: [LegendEntry] {
        label.map { [LegendEntry(label: $0, symbol: .line(color: color, width: width, dash: dash))] } ?? []
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        var n = 0
        for i in 0..<Swift.min(x.count, y.count) where x[i].isFinite && y[i].isFinite
            && (!xScale.accepts(x[i]) || !yScale.accepts(y[i])) { n += 1 }
        return n
    }
}

struct ScatterArtist: Artist {
    let x: [Double]
    let y: [Double]
    let label: String?
    let color: Color
    let size: Double
    let shape: MarkerShape

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? { DataExtent.of(x: x, y: y, xScale: xScale, yScale: yScale) }

    func centers(_ context: DrawContext) -> [Point] {
        (0..<Swift.min(x.count, y.count)).compactMap { i in
            context.x.scale.accepts(x[i]) && context.y.scale.accepts(y[i]) ? context.point(x[i], y[i]) : nil
        }
    }

    static func addMarker(_ path: inout Path, _ shape: MarkerShape, at c: Point, size: Double) {
        let r = size / 2
        switch shape {
        case .circle: path.addCircle(center: c, radius: r)
        case .square: path.addRect(Rect(x: c.x - r * 0.89, y: c.y - r * 0.89, width: r * 1.78, height: r * 1.78))
        case .triangle:
            path.move(to: Point(c.x, c.y - r * 1.15)); path.line(to: Point(c.x + r, c.y + r * 0.6))
            path.line(to: Point(c.x - r, c.y + r * 0.6)); path.close()
        case .diamond:
            path.move(to: Point(c.x, c.y - r * 1.2)); path.line(to: Point(c.x + r, c.y))
            path.line(to: Point(c.x, c.y + r * 1.2)); path.line(to: Point(c.x - r, c.y)); path.close()
        }
    }

    func draw(_ context: DrawContext) {
        var path = Path()
        for c in centers(context) { Self.addMarker(&path, shape, at: c, size: size) }
        context.renderer.fill(path, color: color)
    }

    func coveredPoints(_ context: DrawContext) -> [Point] { centers(context) }

    var legendEntries: [LegendEntry] {
        label.map { [LegendEntry(label: $0, symbol: .marker(color: color, shape: shape, size: size))] } ?? []
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        LineArtist(x: x, y: y, label: nil, color: color, width: 0, dash: .solid)
            .pointsOutsideDomain(xScale: xScale, yScale: yScale)
    }
}

/// Fill between two curves over the same x (mean ± std, a seed interval). Broken where any value is missing.
struct BandArtist: Artist {
    let x: [Double]
    let lower: [Double]
    let upper: [Double]
    let label: String?
    let color: Color

    private func runs(_ xScale: Scale, _ yScale: Scale) -> [Range<Int>] {
        let both = zip(lower, upper).map { $0.isFinite && $1.isFinite && yScale.accepts($0) && yScale.accepts($1) ? $0 : .nan }
        return Runs.drawable(x: x, y: both, xScale: xScale, yScale: yScale)
    }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        let rs = runs(xScale, yScale)
        let idx = rs.flatMap { Array($0) }
        guard let xMin = idx.map({ x[$0] }).min(), let xMax = idx.map({ x[$0] }).max(),
              let yMin = idx.map({ Swift.min(lower[$0], upper[$0]) }).min(),
              let yMax = idx.map({ Swift.max(lower[$0], upper[$0]) }).max() else { return nil }
        return DataExtent(xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax)
    }

    func polygons(_ context: DrawContext) -> [[Point]] {
        runs(context.x.scale, context.y.scale).map { run in
            run.map { context.point(x[$0], upper[$0]) } + run.reversed().map { context.point(x[$0], lower[$0]) }
        }
    }

    func draw(_ context: DrawContext) {
        for polygon in polygons(context) {
            var path = Path.polyline(polygon); path.close()
            context.renderer.fill(path, color: color)
        }
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        var out: [Point] = []
        for run in runs(context.x.scale, context.y.scale) {
            var lastX = -Double.infinity
            for i in run where abs(context.x(x[i]) - lastX) >= 3 || i == run.upperBound - 1 {
                lastX = context.x(x[i])
                out += Runs.sample([context.point(x[i], upper[i]), context.point(x[i], lower[i])], spacing: 5)
            }
        }
        return out
    }

    var legendEntries: [LegendEntry] {
        label.map { [LegendEntry(label: $0, symbol: .patch(fill: color, edge: nil))] } ?? []
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        var n = 0
        for i in 0..<x.count where x[i].isFinite && lower[i].isFinite && upper[i].isFinite
            && (!xScale.accepts(x[i]) || !yScale.accepts(lower[i]) || !yScale.accepts(upper[i])) { n += 1 }
        return n
    }
}
