// Ribbons3D: the pseudo-3-D view of the paper's "various m" figure. One ribbon per series (per momentum),
// iteration along x, value up, series ordered along an oblique depth axis; ribbons are drawn back to front
// so nearer ones hide farther ones. It deliberately is an oblique projection (no perspective, no rotation):
// x and y keep their scales and stay readable against the front edges.

import Foundation

/// One series of a 3-D ribbon view.
public struct Ribbon: Sendable, Equatable {
    /// Position along the depth axis (e.g. the momentum); ribbons are ordered by it, front = smallest.
    public var depth: Double
    /// Depth tick label; nil prints `depth` (up to six significant digits).
    public var label: String?
    public var x: [Double]
    public var y: [Double]
    /// Nil: from viridis by rank.
    public var color: Color?

    public init(depth: Double, label: String? = nil, x: [Double], y: [Double], color: Color? = nil) {
        self.depth = depth; self.label = label; self.x = x; self.y = y; self.color = color
    }
}

/// Page geometry of an oblique box: x to the right, y up, depth receding up-right.
struct ObliqueProjection {
    let plot: Rect
    let x: AxisMap
    let y: AxisMap
    /// Page offset of depth fraction 1 (dy is positive upwards).
    let dx: Double
    let dy: Double

    init(plot: Rect, xScale: Scale, xLimits: (Double, Double), yScale: Scale, yLimits: (Double, Double)) {
        self.plot = plot
        dx = plot.width * 0.26
        dy = plot.height * 0.30
        x = AxisMap(scale: xScale, lower: xLimits.0, upper: xLimits.1, start: plot.minX, end: plot.maxX - dx)
        y = AxisMap(scale: yScale, lower: yLimits.0, upper: yLimits.1, start: plot.maxY, end: plot.minY + dy)
    }

    func point(_ xv: Double, _ yv: Double, _ depth: Double) -> Point { Point(x(xv) + depth * dx, y(yv) - depth * dy) }
}

struct Ribbons3D: Sendable {
    /// Sorted by depth, with colours resolved.
    let ribbons: [Ribbon]
    let colors: [Color]
    let depthLabel: String?

    /// Depth fraction of the front face of ribbon k, and the ribbon's thickness as a fraction of depth.
    var spacing: Double { 1 / Double(ribbons.count) }
    var thickness: Double { spacing * 0.4 }
    func front(_ k: Int) -> Double { Double(k) * spacing + (spacing - thickness) / 2 }
    func center(_ k: Int) -> Double { front(k) + thickness / 2 }

    func depthTickLabel(_ k: Int) -> String {
        ribbons[k].label ?? TickLocator.compact(ribbons[k].depth)
    }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        ribbons.compactMap { DataExtent.of(x: $0.x, y: $0.y, xScale: xScale, yScale: yScale) }.reduce(nil) { $0?.union($1) ?? $1 }
    }

    func draw(_ renderer: any Renderer, _ p: ObliqueProjection, style: Style) {
        let floor = p.y.lower
        for k in ribbons.indices.reversed() {
            let ribbon = ribbons[k], color = colors[k]
            let near = front(k), far = near + thickness
            for run in Runs.drawable(x: ribbon.x, y: ribbon.y, xScale: p.x.scale, yScale: p.y.scale) {
                // Long series: mean per pixel column for the ribbon, min/max envelope on its front face.
                var xs = run.map { ribbon.x[$0] }, mean = run.map { ribbon.y[$0] }
                var lows: [Double] = [], highs: [Double] = []
                let span = abs(p.x(ribbon.x[run.upperBound - 1]) - p.x(ribbon.x[run.lowerBound]))
                let columns = Swift.max(1, span * renderer.pixelsPerPoint)
                if Double(run.count) > 2 * columns, Envelope.isNonDecreasing(ribbon.x, run) {
                    let reduced = Envelope.reduce(x: ribbon.x, y: ribbon.y, range: run, map: p.x,
                                                  columnWidth: 1 / renderer.pixelsPerPoint)
                    xs = reduced.map(\.x); mean = reduced.map(\.mean)
                    lows = reduced.map(\.minimum); highs = reduced.map(\.maximum)
                }
                let top = highs.isEmpty ? mean : highs
                // Top surface of the ribbon, from the front face back by its thickness.
                var strip = Path.polyline(xs.indices.map { p.point(xs[$0], mean[$0], near) })
                for i in xs.indices.reversed() { strip.line(to: p.point(xs[i], mean[i], far)) }
                strip.close()
                renderer.fill(strip, color: color)
                renderer.stroke(strip, style: StrokeStyle(color: color.darkened(0.3), width: 0.35))
                // Front face down to the floor, opaque so nearer ribbons hide farther ones.
                var face = Path.polyline(xs.indices.map { p.point(xs[$0], top[$0], near) })
                face.line(to: p.point(xs[xs.count - 1], floor, near)); face.line(to: p.point(xs[0], floor, near)); face.close()
                renderer.fill(face, color: color.lightened(0.62))
                if !highs.isEmpty {
                    var band = Path.polyline(xs.indices.map { p.point(xs[$0], highs[$0], near) })
                    for i in xs.indices.reversed() { band.line(to: p.point(xs[i], lows[i], near)) }
                    band.close()
                    renderer.fill(band, color: color.withAlpha(0.45))
                }
                renderer.stroke(.polyline(xs.indices.map { p.point(xs[$0], mean[$0], near) }),
                                style: StrokeStyle(color: color.darkened(0.25), width: 0.9))
            }
        }
    }

    func skipped(xScale: Scale, yScale: Scale) -> Int {
        ribbons.reduce(0) { $0 + LineArtist(x: $1.x, y: $1.y, label: nil, color: .black, width: 0, dash: .solid)
            .pointsOutsideDomain(xScale: xScale, yScale: yScale) }
    }
}
