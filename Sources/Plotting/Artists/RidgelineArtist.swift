// RidgelineArtist: histograms stacked with vertical offsets, one row per epoch (TensorBoard's "offset" view);
// rows further down are drawn later and hide the ones behind them. Several series (pos, neg) share the rows.
// It deliberately does not normalise counts to densities: callers pass what they want compared.

import Foundation

/// One quantity drawn in every row of a ridgeline (e.g. the pos histograms at the chosen epochs).
public struct RidgelineSeries: Sendable, Equatable {
    /// Legend text; nil for no legend entry.
    public var label: String?
    /// Bin edges, shared by all rows of this series.
    public var edges: [Double]
    /// `rows[r]`: the bin values for row r (one per bin).
    public var rows: [[Double]]
    /// Nil: next palette colour, or a colour per row from viridis when this is the only series.
    public var color: Color?

    public init(label: String? = nil, edges: [Double], rows: [[Double]], color: Color? = nil) {
        self.label = label; self.edges = edges; self.rows = rows; self.color = color
    }
}

struct RidgelineArtist: Artist {
    /// Series with resolved colours: `rowColors[r]` for each row.
    let series: [(label: String?, edges: [Double], rows: [[Double]], rowColors: [Color])]
    let rowCount: Int
    /// Height of the tallest peak, in row spacings (> 1 overlaps the row above).
    let peakHeight: Double
    let largest: Double

    func baseline(_ row: Int) -> Double { Double(rowCount - 1 - row) }

    func extent(xScale: Scale, yScale: Scale) -> DataExtent? {
        let xs = series.flatMap(\.edges).filter(xScale.accepts)
        guard let lo = xs.min(), let hi = xs.max() else { return nil }
        return DataExtent(xMin: lo, xMax: hi, yMin: 0, yMax: Double(rowCount - 1) + peakHeight,
                          stickyXMin: true, stickyXMax: true)
    }

    /// The ridge of one row of one series, as page points from the first to the last edge along the baseline.
    func ridge(_ s: Int, _ row: Int, _ context: DrawContext) -> [Point] {
        let edges = series[s].edges, values = series[s].rows[row]
        let base = baseline(row)
        let scale = largest > 0 ? peakHeight / largest : 0
        var points = [context.point(edges[0], base)]
        for b in values.indices where context.x.scale.accepts(edges[b]) {
            let v = values[b].isFinite ? Swift.max(values[b], 0) : 0
            points.append(context.point((edges[b] + edges[b + 1]) / 2, base + v * scale))
        }
        points.append(context.point(edges[edges.count - 1], base))
        return points
    }

    func draw(_ context: DrawContext) {
        for row in 0..<rowCount {
            let ridges = series.indices.map { ridge($0, row, context) }
            let areas = ridges.map { r -> Path in var area = Path.polyline(r); area.close(); return area }
            // Opaque first, so this row hides the rows behind it but its own series stay see-through.
            for area in areas { context.renderer.fill(area, color: context.style.background) }
            for s in series.indices { context.renderer.fill(areas[s], color: series[s].rowColors[row].withAlpha(0.55)) }
            for s in series.indices {
                context.renderer.stroke(.polyline(ridges[s]), style: StrokeStyle(color: series[s].rowColors[row].darkened(0.25), width: 0.8))
            }
        }
    }

    func coveredPoints(_ context: DrawContext) -> [Point] {
        var out: [Point] = []
        for row in 0..<rowCount {
            for s in series.indices {
                let ridge = Runs.sample(ridge(s, row, context))
                out += ridge
                let base = context.y(baseline(row))
                for p in ridge where p.y < base { out += stride(from: p.y, through: base, by: 6).map { Point(p.x, $0) } }
            }
        }
        return out
    }

    var legendEntries: [LegendEntry] {
        series.compactMap { s in
            s.label.map {
                let c = s.rowColors[s.rowColors.count / 2]
                return LegendEntry(label: $0, symbol: .patch(fill: c.withAlpha(0.55), edge: c.darkened(0.25)))
            }
        }
    }

    func pointsOutsideDomain(xScale: Scale, yScale: Scale) -> Int {
        series.reduce(0) { total, s in
            total + s.rows.reduce(0) { t, row in
                t + row.indices.filter { row[$0].isFinite && !xScale.accepts(s.edges[$0]) }.count
            }
        }
    }
}
