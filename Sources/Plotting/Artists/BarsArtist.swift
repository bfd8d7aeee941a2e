// BarsArtist and HistogramArtist: bars with optional error bars (ablation charts), and histograms given by
// bin edges and counts, drawn as a step outline or filled. They deliberately do not bin raw samples: callers
// pass counts (the run store keeps histograms, not samples).

import Foundation

/// Error bar lengths below and above each bar's top.
public enum ErrorBars: Sendable, Equatable {
    /// The same length below and above.
    case symmetric([Double])
    case asymmetric(lower: [Double], upper: [Double])

    var lower: [Double] { switch self { case let .symmetric(e): return e; case let .asymmetric(l, _): return l } }
    var upper: [Double] { switch self { case let .symmetric(e): return e; case let .asymmetric(_, u): return u } }
}

struct BarsArtist: Artist {
    let x: [Double]
    let heights: [Double]
    let errors: ErrorBars?
    let width: Double
    let baseline: Double
    let label: String?
    let color: Color

    private func drawable(_ i: Int, _ xScale: Scale, _ yScale: Scale) -> Bool {
        x[i].isFinite && heights[i].isFinite && xScale.accepts(x[i] - width / 2) && yScale.accepts(heights[i])
            && yScale.accepts(baseline)
    }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        var e: DataExtent?
        for i in x.indices where drawable(i, xScale, yScale) {
            var lo = Swift.min(baseline, heights[i]), hi = Swift.max(baseline, heights[i])
            if let errors {
                let down = heights[i] - errors.lower[i], up = heights[i] + errors.upper[i]
                if down.isFinite && yScale.accepts(down) { lo = Swift.min(lo, down) }
                if up.isFinite { hi = Swift.max(hi, up) }
            }
            let b = DataExtent(xMin: x[i] - width / 2, xMax: x[i] + width / 2, yMin: lo, yMax: hi,
                               stickyYMin: lo == baseline, stickyYMax: hi == baseline)
            e = e.map { $0.union(b) } ?? b
        }
        return e
    }

    func rects(_ context: DrawContext) -> [(Int, Rect)] {
        x.indices.compactMap { i in
            guard drawable(i, context.x.scale, context.y.scale) else { return nil }
            let x0 = context.x(x[i] - width / 2), x1 = context.x(x[i] + width / 2)
            let y0 = context.y(baseline), y1 = context.y(heights[i])
            return (i, Rect(x: Swift.min(x0, x1), y: Swift.min(y0, y1), width: abs(x1 - x0), height: abs(y1 - y0)))
        }
    }

    func draw(_ context: DrawContext) {
        var bars = Path()
        let placed = rects(context)
        for (_, r) in placed { bars.addRect(r) }
        context.renderer.fill(bars, color: color)
        context.renderer.stroke(bars, style: StrokeStyle(color: color.darkened(0.35), width: 0.5, roundJoins: false))
        guard let errors else { return }
        var whiskers = Path()
        for (i, r) in placed {
            let down = heights[i] - errors.lower[i], up = heights[i] + errors.upper[i]
            guard down.isFinite, up.isFinite, context.y.scale.accepts(down) else { continue }
            let cx = r.midX, cap = Swift.min(r.width * 0.3, 3)
            let yDown = context.y(down), yUp = context.y(up)
            whiskers.move(to: Point(cx, yDown)); whiskers.line(to: Point(cx, yUp))
            whiskers.move(to: Point(cx - cap, yDown)); whiskers.line(to: Point(cx + cap, yDown))
            whiskers.move(to: Point(cx - cap, yUp)); whiskers.line(to: Point(cx + cap, yUp))
        }
        context.renderer.stroke(whiskers, style: StrokeStyle(color: context.style.textColor, width: 0.7, roundJoins: false))
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        rects(context).flatMap { _, r -> [Point] in
            stride(from: r.minY, through: r.maxY, by: 4).flatMap { y in
                stride(from: r.minX, through: r.maxX, by: 4).map { Point($0, y) }
            }
        }
    }

    var legendEntries: [LegendEntry] {
        label.map { [LegendEntry(label: $0, symbol: .patch(fill: color, edge: color.darkened(0.35)))] } ?? []
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        x.indices.filter { x[$0].isFinite && heights[$0].isFinite && !drawable($0, xScale, yScale) }.count
    }
}

/// How a histogram is drawn.
public enum HistogramStyle: Sendable, Equatable {
    /// The outline of the bins only.
    case step
    /// Filled bins (translucent) with the step outline on top.
    case filled
}

struct HistogramArtist: Artist {
    let edges: [Double]
    let counts: [Double]
    let style: HistogramStyle
    let label: String?
    let color: Color
    let lineWidth: Double

    /// Bins that can be drawn: finite count, and on a log y axis a positive one.
    private func bins(_ yScale: Scale) -> [Int] {
        counts.indices.filter { counts[$0].isFinite && (yScale == .linear || counts[$0] > 0) }
    }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        let shown = bins(yScale).filter { xScale.accepts(edges[$0]) }
        guard let first = shown.first, let last = shown.last else { return nil }
        let values = shown.map { counts[$0] }
        guard let lo = values.min(), let hi = values.max() else { return nil }
        let base = yScale == .linear ? Swift.min(0, lo) : lo
        return DataExtent(xMin: edges[first], xMax: edges[last + 1], yMin: base, yMax: Swift.max(hi, base),
                          stickyXMin: true, stickyXMax: true, stickyYMin: yScale == .linear && base == 0)
    }

    /// Runs of adjacent drawable bins as step outlines (closed down to the baseline at both ends).
    func outlines(_ context: DrawContext) -> [[Point]] {
        let base = context.y.scale == .log ? context.y.start : context.y(0)
        var result: [[Point]] = []
        var current: [Point] = []
        var previous = -2
        for i in bins(context.y.scale) where context.x.scale.accepts(edges[i]) {
            if i != previous + 1, let last = current.last {
                current.append(Point(last.x, base)); result.append(current); current = []
            }
            let x0 = context.x(edges[i]), x1 = context.x(edges[i + 1]), y = context.y(counts[i])
            if current.isEmpty { current.append(Point(x0, base)) }
            current.append(Point(x0, y)); current.append(Point(x1, y))
            previous = i
        }
        if let last = current.last { current.append(Point(last.x, base)); result.append(current) }
        return result
    }

    func draw(_ context: DrawContext) {
        for outline in outlines(context) {
            if style == .filled {
                var area = Path.polyline(outline); area.close()
                context.renderer.fill(area, color: color.withAlpha(0.35 * color.alpha))
            }
            context.renderer.stroke(.polyline(outline), style: StrokeStyle(color: color, width: lineWidth, roundJoins: false))
        }
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        outlines(context).flatMap { outline -> [Point] in
            let edge = Runs.sample(outline)
            guard style == .filled else { return edge }
            // Interior of filled bins counts too: a legend over a filled area hides it.
            return edge + edge.flatMap { p in stride(from: p.y, through: context.y.start, by: 6).map { Point(p.x, $0) } }
        }
    }

    var legendEntries: [LegendEntry] {
        guard let label else { return [] }
        switch style {
        case .step: return [LegendEntry(label: label, symbol: .line(color: color, width: lineWidth, dash: .solid))]
        case .filled: return [LegendEntry(label: label, symbol: .patch(fill: color.withAlpha(0.35), edge: color))]
        }
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        let shown = Set(bins(yScale))
        return counts.indices.filter { counts[$0].isFinite && (!shown.contains($0) || !xScale.accepts(edges[$0])) }.count
    }
}
