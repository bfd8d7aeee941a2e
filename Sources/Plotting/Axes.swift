// Axes: one panel of a figure: its artists, scales, limits, labels, ticks, legend and annotations, as a value.
// Adding data validates it (typed PlotError for empty or mismatched input) and counts NaN/Inf, which are
// skipped when drawing. It deliberately holds no page geometry: Figure+Layout.swift places it.

import Foundation

/// Where a legend goes.
public enum LegendPosition: Sendable, Equatable {
    /// Inside the plot, in the corner or side that hides the fewest data points (default).
    case auto
    case upperRight, upperLeft, lowerLeft, lowerRight, upperCenter, lowerCenter, centerLeft, centerRight
    /// To the right of the plot area, outside it (the figure makes room).
    case outsideRight
    /// No legend.
    case hidden
}

/// Which grid lines an axes draws at its major ticks.
public enum GridLines: Sendable, Equatable { case none, horizontal, vertical, both }

/// A text placed at a data point (see `Axes.annotate`).
struct Annotation: Sendable, Equatable {
    var text: String
    var x: Double
    var y: Double
    var anchor: TextAnchor
    var color: Color?
}

/// A vertical line at an x value with a short label (queue filled, LR drop, FT start).
public struct VerticalMarker: Sendable, Equatable {
    /// Data x of the line.
    public var x: Double
    /// Text above the plot at the line; nil for none.
    public var label: String?
    public var color: Color
    public var dash: Dash
}

/// A panel: artists plus everything that decorates them.
public struct Axes: Sendable {
    /// Bold title above the panel. Default none.
    public var title: String?
    /// Label under the x axis. Default none.
    public var xLabel: String?
    /// Label left of the y axis (rotated). Default none.
    public var yLabel: String?
    /// Default `.linear`.
    public var xScale: Scale = .linear
    /// Default `.linear`.
    public var yScale: Scale = .linear
    /// Fixed x limits; nil (default) fits the data with `xPadding`.
    public var xLimits: ClosedRange<Double>?
    /// Fixed y limits; nil (default) fits the data with `yPadding`.
    public var yLimits: ClosedRange<Double>?
    /// Fraction of the data span added on each non-sticky side of auto x limits. Default 0.02.
    public var xPadding = 0.02
    /// Fraction of the data span added on each non-sticky side of auto y limits. Default 0.05.
    public var yPadding = 0.05
    /// Default `.automatic`; use `.iterations` for 10k-style step labels.
    public var xTickFormat: TickFormat = .automatic
    /// Default `.automatic`.
    public var yTickFormat: TickFormat = .automatic
    /// Default `.both`.
    public var grid: GridLines = .both
    /// Default `.auto`.
    public var legendPosition: LegendPosition = .auto
    /// Legend columns, default 1.
    public var legendColumns = 1

    /// Draws nothing and takes no room beyond its grid cell (an unused slot of a grid). Default false.
    public var isHidden = false

    var artists: [any Artist] = []
    var markers: [VerticalMarker] = []
    var annotations: [Annotation] = []
    var customXTicks: [Tick]?
    var customYTicks: [Tick]?
    var colorBarLabel: String??   // nil: no colour bar; .some(label)
    var ribbons: Ribbons3D?
    private var colorIndex = 0
    private var nonFiniteCount = 0

    public init() {}

    /// NaN/Inf values given so far, and finite values the current scales cannot show.
    public var skippedPoints: SkippedPoints {
        let outside = artists.reduce(0) { $0 + $1.pointsOutsideDomain(xScale: xScale, yScale: yScale) }
            + (ribbons?.skipped(xScale: xScale, yScale: yScale) ?? 0)
        return SkippedPoints(nonFinite: nonFiniteCount, outsideLogDomain: outside)
    }

    /// The legend rows, in the order the artists were added.
    public var legendEntries: [LegendEntry] { artists.flatMap(\.legendEntries) }

    /// True when nothing was added.
    public var isEmpty: Bool { artists.isEmpty && ribbons == nil }

    /// The next colour of the Okabe–Ito cycle (each artist added without a colour takes one).
    public mutating func nextColor() -> Color {
        defer { colorIndex += 1 }
        return Palette.categorical(colorIndex)
    }

    // MARK: artists

    /// A line through (x, y), broken at NaN/Inf. Long series become a min/max envelope per pixel column plus the
    /// column mean. Defaults: next palette colour, style line width, solid.
    public mutating func line(x: [Double], y: [Double], label: String? = nil, color: Color? = nil,
                              width: Double? = nil, dash: Dash = .solid) throws(PlotError) {
        let what = Validate.name("line", label)
        try Validate.nonEmpty(x.count, what)
        try Validate.sameLength(x.count, y.count, what + " (y)")
        nonFiniteCount += countNonFinitePoints(x, y)
        artists.append(LineArtist(x: x, y: y, label: label, color: color ?? nextColor(), width: width ?? Style().lineWidth, dash: dash))
    }

    /// A line over 0, 1, 2, ... (one value per step).
    public mutating func line(y: [Double], label: String? = nil, color: Color? = nil, width: Double? = nil,
                              dash: Dash = .solid) throws(PlotError) {
        try line(x: y.indices.map(Double.init), y: y, label: label, color: color, width: width, dash: dash)
    }

    /// Markers at (x, y). Defaults: next palette colour, 3.5 pt circles.
    public mutating func scatter(x: [Double], y: [Double], label: String? = nil, color: Color? = nil,
                                 size: Double = 3.5, marker: MarkerShape = .circle) throws(PlotError) {
        let what = Validate.name("scatter", label)
        try Validate.nonEmpty(x.count, what)
        try Validate.sameLength(x.count, y.count, what + " (y)")
        try Validate.positive(size, what + " marker size")
        nonFiniteCount += countNonFinitePoints(x, y)
        artists.append(ScatterArtist(x: x, y: y, label: label, color: color ?? nextColor(), size: size, shape: marker))
    }

    /// A filled band between `lower` and `upper` over x (mean ± std, a seed interval). Default colour: the next
    /// palette colour; `opacity` (default 0.25) applies to it.
    public mutating func band(x: [Double], lower: [Double], upper: [Double], label: String? = nil,
                              color: Color? = nil, opacity: Double = 0.25) throws(PlotError) {
        let what = Validate.name("band", label)
        try Validate.nonEmpty(x.count, what)
        try Validate.sameLength(x.count, lower.count, what + " (lower)")
        try Validate.sameLength(x.count, upper.count, what + " (upper)")
        nonFiniteCount += countNonFinitePoints(x, lower, upper)
        let c = (color ?? nextColor())
        artists.append(BandArtist(x: x, lower: lower, upper: upper, label: label, color: c.withAlpha(opacity * c.alpha)))
    }

    /// Bars centred at x, `width` data units wide, from `baseline` (default 0) to `heights`, with optional error
    /// bars. Group bars by offsetting x yourself; name categories with `setXTicks(_:labels:)`.
    public mutating func bars(x: [Double], heights: [Double], errors: ErrorBars? = nil, width: Double = 0.8,
                              baseline: Double = 0, label: String? = nil, color: Color? = nil) throws(PlotError) {
        let what = Validate.name("bars", label)
        try Validate.nonEmpty(x.count, what)
        try Validate.sameLength(x.count, heights.count, what + " (heights)")
        try Validate.positive(width, what + " width")
        if let errors {
            try Validate.sameLength(x.count, errors.lower.count, what + " (lower errors)")
            try Validate.sameLength(x.count, errors.upper.count, what + " (upper errors)")
            nonFiniteCount += countNonFinitePoints(errors.lower) + countNonFinitePoints(errors.upper)
        }
        nonFiniteCount += countNonFinitePoints(x, heights)
        artists.append(BarsArtist(x: x, heights: heights, errors: errors, width: width, baseline: baseline,
                                  label: label, color: color ?? nextColor()))
    }

    /// A histogram from bin `edges` (count + 1 values, strictly increasing) and per-bin `counts`.
    /// Default style `.step`, next palette colour.
    public mutating func histogram(edges: [Double], counts: [Double], style: HistogramStyle = .step,
                                   label: String? = nil, color: Color? = nil, width: Double? = nil) throws(PlotError) {
        let what = Validate.name("histogram", label)
        try Validate.nonEmpty(counts.count, what)
        try Validate.edges(edges, what + " edges")
        try Validate.sameLength(edges.count - 1, counts.count, what + " counts")
        nonFiniteCount += countNonFinitePoints(counts)
        artists.append(HistogramArtist(edges: edges, counts: counts, style: style, label: label,
                                       color: color ?? nextColor(), lineWidth: width ?? Style().lineWidth * 0.9))
    }

    /// A heat map: `values[i][j]` colours the cell between `xEdges[i]...xEdges[i+1]` and
    /// `yEdges[j]...yEdges[j+1]` (one inner array per x column, e.g. one histogram per step). NaN cells stay
    /// empty. `valueRange` nil (default) uses the finite values' range (positive ones for `.log`).
    /// Default colour map viridis, linear colour scale.
    public mutating func heatmap(xEdges: [Double], yEdges: [Double], values: [[Double]], colormap: Colormap = .viridis,
                                 colorScale: ColorScale = .linear, valueRange: ClosedRange<Double>? = nil) throws(PlotError) {
        try Validate.edges(xEdges, "heat map x edges")
        try Validate.edges(yEdges, "heat map y edges")
        try Validate.sameLength(xEdges.count - 1, values.count, "heat map columns (values)")
        for (i, column) in values.enumerated() {
            try Validate.sameLength(yEdges.count - 1, column.count, "heat map column \(i)")
        }
        nonFiniteCount += values.reduce(0) { $0 + countNonFinitePoints($1) }
        let normalization: ColorNormalization
        if let valueRange {
            if colorScale == .log && valueRange.lowerBound <= 0 {
                throw .invalidParameter(what: "heat map log colour range must be positive, got \(valueRange)")
            }
            normalization = ColorNormalization(scale: colorScale, lower: valueRange.lowerBound, upper: valueRange.upperBound)
        } else {
            normalization = ColorNormalization.automatic(values, scale: colorScale)
                ?? ColorNormalization(scale: colorScale, lower: colorScale == .log ? 1 : 0, upper: colorScale == .log ? 10 : 1)
        }
        artists.append(HeatmapArtist(xEdges: xEdges, yEdges: yEdges, values: values, colormap: colormap,
                                     normalization: normalization))
    }

    /// A colour bar right of the panel for the last heat map added, with an optional label.
    public mutating func colorBar(label: String? = nil) { colorBarLabel = .some(label) }

    /// Stacked histograms, one row per entry of `rowLabels` (top row first), drawn back to front; each series
    /// gives one histogram per row. The tallest peak is `peakHeight` row spacings high (default 1.6, so rows
    /// overlap). The row labels become the y tick labels and horizontal grid lines are turned off.
    public mutating func ridgeline(_ series: [RidgelineSeries], rowLabels: [String], peakHeight: Double = 1.6) throws(PlotError) {
        try Validate.nonEmpty(series.count, "ridgeline")
        try Validate.nonEmpty(rowLabels.count, "ridgeline rows")
        try Validate.positive(peakHeight, "ridgeline peak height")
        var resolved: [(label: String?, edges: [Double], rows: [[Double]], rowColors: [Color])] = []
        var largest = 0.0
        for s in series {
            let what = Validate.name("ridgeline series", s.label)
            try Validate.edges(s.edges, what + " edges")
            try Validate.sameLength(rowLabels.count, s.rows.count, what + " rows")
            for (r, row) in s.rows.enumerated() {
                try Validate.sameLength(s.edges.count - 1, row.count, what + " row \(r)")
                nonFiniteCount += countNonFinitePoints(row)
                largest = Swift.max(largest, row.filter(\.isFinite).max() ?? 0)
            }
            let colors: [Color]
            if let c = s.color { colors = Array(repeating: c, count: rowLabels.count) } else if series.count == 1 {
                colors = Colormap.viridis.colors(count: rowLabels.count, range: 0.05...0.85)
            } else {
                colors = Array(repeating: nextColor(), count: rowLabels.count)
            }
            resolved.append((s.label, s.edges, s.rows, colors))
        }
        artists.append(RidgelineArtist(series: resolved, rowCount: rowLabels.count, peakHeight: peakHeight, largest: largest))
        let n = rowLabels.count
        customYTicks = rowLabels.enumerated().map { Tick(value: Double(n - 1 - $0.offset), label: $0.element) }
        if grid == .both { grid = .vertical } else if grid == .horizontal { grid = .none }
        yPadding = 0.02
    }

    /// The pseudo-3-D ribbon view: one ribbon per series ordered by `depth` along an oblique depth axis
    /// (front = smallest), iteration along x, value up. Colours default to viridis by rank. Replaces the
    /// panel's 2-D artists' drawing: a 3-D panel shows only its ribbons.
    public mutating func ribbons3D(_ ribbons: [Ribbon], depthLabel: String? = nil) throws(PlotError) {
        try Validate.nonEmpty(ribbons.count, "3-D ribbons")
        for r in ribbons {
            let what = "3-D ribbon at depth \(r.depth)"
            try Validate.nonEmpty(r.x.count, what)
            try Validate.sameLength(r.x.count, r.y.count, what + " (y)")
            nonFiniteCount += countNonFinitePoints(r.x, r.y)
        }
        let sorted = ribbons.sorted { $0.depth < $1.depth }
        let ramp = Colormap.viridis.colors(count: sorted.count, range: 0...0.85)
        self.ribbons = Ribbons3D(ribbons: sorted, colors: sorted.indices.map { sorted[$0].color ?? ramp[$0] },
                                 depthLabel: depthLabel)
    }

    /// A dashed vertical line across the panel at `x` with an optional label (default grey, dashed).
    public mutating func verticalMarker(x: Double, label: String? = nil, color: Color = .gray, dash: Dash = .dashed) {
        if !x.isFinite { nonFiniteCount += 1; return }
        markers.append(VerticalMarker(x: x, label: label, color: color, dash: dash))
    }

    /// A text at data point (`x`, `y`) placed by `anchor` (default: left of the text, centred vertically, so it
    /// reads after the point), in the tick-label font; drawn over the data, not clipped, not part of the layout.
    /// Default colour: the text colour.
    public mutating func annotate(_ text: String, x: Double, y: Double, anchor: TextAnchor = TextAnchor(.left, .center),
                                  color: Color? = nil) {
        if !x.isFinite || !y.isFinite { nonFiniteCount += 1; return }
        annotations.append(Annotation(text: text, x: x, y: y, anchor: anchor, color: color))
    }

    /// Fixed x ticks with their labels (categories of a bar chart), replacing the automatic ones.
    public mutating func setXTicks(_ values: [Double], labels: [String]) throws(PlotError) {
        try Validate.sameLength(values.count, labels.count, "x tick labels")
        customXTicks = zip(values, labels).map { Tick(value: $0, label: $1) }
    }

    /// Fixed y ticks with their labels, replacing the automatic ones.
    public mutating func setYTicks(_ values: [Double], labels: [String]) throws(PlotError) {
        try Validate.sameLength(values.count, labels.count, "y tick labels")
        customYTicks = zip(values, labels).map { Tick(value: $0, label: $1) }
    }

    // MARK: limits

    /// Data extent of all artists on the current scales (nil when nothing is drawable).
    func dataExtent() -> DataExtent? {
        if let ribbons { return ribbons.extent(xScale: xScale, yScale: yScale) }
        return artists.compactMap { $0.extent(xScale: xScale, yScale: yScale) }.reduce(nil) { $0?.union($1) ?? $1 }
    }

    /// Limits from data: fixed ones win; otherwise the extent padded on non-sticky sides; a degenerate span
    /// is widened; no data gives 0...1 (1...10 on log).
    func resolvedLimits() -> (x: (Double, Double), y: (Double, Double)) {
        let e = dataExtent()
        func resolve(_ fixed: ClosedRange<Double>?, _ lo: Double?, _ hi: Double?, _ sLo: Bool, _ sHi: Bool,
                      _ padding: Double, _ scale: Scale) -> (Double, Double) {
            if let fixed, fixed.upperBound > fixed.lowerBound, scale.accepts(fixed.lowerBound) { return (fixed.lowerBound, fixed.upperBound) }
            guard let lo, let hi else { return scale == .log ? (1, 10) : (0, 1) }
            var a = scale.forward(lo), b = scale.forward(hi)
            if b - a <= 1e-12 * Swift.max(abs(a), abs(b), 1e-300) {
                let widen = scale == .log ? 0.5 : Swift.max(abs(a) * 0.1, 0.5)
                a -= widen; b += widen
            } else {
                let pad = (b - a) * padding
                if !sLo { a -= pad }
                if !sHi { b += pad }
            }
            return (scale.inverse(a), scale.inverse(b))
        }
        return (resolve(xLimits, e?.xMin, e?.xMax, e?.stickyXMin ?? false, e?.stickyXMax ?? false, xPadding, xScale),
                resolve(yLimits, e?.yMin, e?.yMax, e?.stickyYMin ?? false, e?.stickyYMax ?? false, yPadding, yScale))
    }

    /// The last heat map (for the colour bar).
    var lastHeatmap: HeatmapArtist? { artists.reversed().lazy.compactMap { $0 as? HeatmapArtist }.first }
}
