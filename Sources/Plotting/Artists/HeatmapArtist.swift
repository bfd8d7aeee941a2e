// HeatmapArtist: cells between x and y edges coloured by value through a colour map (the score distribution
// over training: x = iteration, y = score, colour = density). Drawn as one nearest-neighbour raster when the
// edges are evenly spaced on the axes' scales, else as one rectangle per cell. NaN cells stay empty.
// It deliberately does not interpolate or smooth.

import Foundation

/// How values map to the colour map's 0...1.
public enum ColorScale: Sendable, Equatable {
    case linear
    /// log10 of the value; values ≤ 0 take the lowest colour.
    case log
}

/// A value range and scale for colouring, shared by a heat map and its colour bar.
public struct ColorNormalization: Sendable, Equatable {
    public var scale: ColorScale
    public var lower: Double
    public var upper: Double

    /// Position 0...1 of a finite value in the colour map (clamped); nil for NaN/Inf.
    public func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .linear:
            return upper > lower ? Swift.min(Swift.max((value - lower) / (upper - lower), 0), 1) : 0.5
        case .log:
            guard value > 0 else { return 0 }
            let a = log10(lower), b = log10(upper)
            return b > a ? Swift.min(Swift.max((log10(value) - a) / (b - a), 0), 1) : 0.5
        }
    }

    /// The range of the finite values (positive ones for `.log`); nil when there are none.
    static func automatic(_ values: [[Double]], scale: ColorScale) -> ColorNormalization? {
        var lo = Double.infinity, hi = -Double.infinity
        for column in values {
            for v in column where v.isFinite && (scale == .linear || v > 0) {
                lo = Swift.min(lo, v); hi = Swift.max(hi, v)
            }
        }
        guard lo <= hi else { return nil }
        return ColorNormalization(scale: scale, lower: lo, upper: hi)
    }
}

struct HeatmapArtist: Artist {
    let xEdges: [Double]
    let yEdges: [Double]
    /// `values[i][j]`: cell between `xEdges[i]...xEdges[i+1]` and `yEdges[j]...yEdges[j+1]`.
    let values: [[Double]]
    let colormap: Colormap
    let normalization: ColorNormalization

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        let xs = xEdges.filter(xScale.accepts), ys = yEdges.filter(yScale.accepts)
        guard let x0 = xs.first, let x1 = xs.last, let y0 = ys.first, let y1 = ys.last, x1 > x0, y1 > y0 else { return nil }
        return DataExtent(xMin: x0, xMax: x1, yMin: y0, yMax: y1,
                          stickyXMin: true, stickyXMax: true, stickyYMin: true, stickyYMax: true)
    }

    func color(_ i: Int, _ j: Int) -> Color {
        guard let t = normalization.fraction(values[i][j]) else { return Color.white.withAlpha(0) }
        return colormap.color(at: t)
    }

    static func evenlySpaced(_ edges: [Double], _ scale: Scale) -> Bool {
        let mapped = edges.map(scale.forward)
        guard mapped.allSatisfy(\.isFinite), let first = mapped.first, let last = mapped.last else { return false }
        let step = (last - first) / Double(edges.count - 1)
        return mapped.indices.allSatisfy { abs(mapped[$0] - (first + Double($0) * step)) <= 1e-6 * abs(last - first) }
    }

    func draw(_ context: DrawContext) {
        let nx = xEdges.count - 1, ny = yEdges.count - 1
        let (xScale, yScale) = (context.x.scale, context.y.scale)
        if Self.evenlySpaced(xEdges, xScale) && Self.evenlySpaced(yEdges, yScale) {
            var pixels: [Color] = []
            pixels.reserveCapacity(nx * ny)
            for row in 0..<ny { for i in 0..<nx { pixels.append(color(i, ny - 1 - row)) } }
            let x0 = context.x(xEdges[0]), x1 = context.x(xEdges[nx])
            let yTop = context.y(yEdges[ny]), yBottom = context.y(yEdges[0])
            context.renderer.image(RasterImage(width: nx, height: ny, pixels: pixels),
                                   in: Rect(x: Swift.min(x0, x1), y: Swift.min(yTop, yBottom),
                                            width: abs(x1 - x0), height: abs(yBottom - yTop)))
            return
        }
        for i in 0..<nx where xScale.accepts(xEdges[i]) {
            for j in 0..<ny where yScale.accepts(yEdges[j]) {
                let c = color(i, j)
                guard c.alpha > 0 else { continue }
                let x0 = context.x(xEdges[i]), x1 = context.x(xEdges[i + 1])
                let y0 = context.y(yEdges[j]), y1 = context.y(yEdges[j + 1])
                // Cells overlap by a hair so anti-aliasing leaves no seams.
                context.renderer.fill(.rect(Rect(x: Swift.min(x0, x1) - 0.05, y: Swift.min(y0, y1) - 0.05,
                                                 width: abs(x1 - x0) + 0.1, height: abs(y1 - y0) + 0.1)), color: c)
            }
        }
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        guard let e = extent(xScale: context.x.scale, yScale: context.y.scale) else { return [] }
        let x0 = context.x(e.xMin), x1 = context.x(e.xMax), y0 = context.y(e.yMax), y1 = context.y(e.yMin)
        return stride(from: Swift.min(y0, y1), through: Swift.max(y0, y1), by: 6).flatMap { y in
            stride(from: Swift.min(x0, x1), through: Swift.max(x0, x1), by: 6).map { Point($0, y) }
        }
    }

    var legendEntries: [LegendEntry] { [] }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        let badX = (0..<(xEdges.count - 1)).filter { !xScale.accepts(xEdges[$0]) }.count
        let badY = (0..<(yEdges.count - 1)).filter { !yScale.accepts(yEdges[$0]) }.count
        return badX * (yEdges.count - 1) + badY * (xEdges.count - 1) - badX * badY
    }
}
