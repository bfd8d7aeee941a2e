// The figures drawn from the stored histograms: `heatmap` (x = iteration, y = score, colour = density; one row
// of panels per run: pos, neg, and pos/neg after FT when recorded), `ridgeline` (pos and neg densities at chosen
// epochs, offset vertically) and `ft-shift` (each stream before and after FT at chosen epochs).
// Densities: counts / (values × bin width), so streams with different counts (B positives, B×K negatives) and
// different edges (FT streams are not cosines) compare. Score axes are cropped to where the density exceeds
// 1/1000 of its peak (plus two bins), so the mass is not squeezed into a corner of [−1, 1].
// Deliberately not here: the reading and summing (HistogramSums.swift).
import Foundation
import Plotting
import Recording

extension ReportFigures {
    /// Colour-bar floor relative to the peak density: the colour scale is log over three decades.
    static let densityDecades = 3.0

    static func streamTitle(_ stream: ScoreStream) -> String {
        switch stream {
        case .positive: return "pos"
        case .negative: return "neg"
        case .positiveTransformed: return "pos after FT"
        case .negativeTransformed: return "neg after FT"
        }
    }

    /// The bin range where any of `densities` (rows of one edge set) reaches `floor`, padded by two bins.
    static func cropBins(_ densities: [[Double]], bins: Int, floor: Double) -> Range<Int>? {
        var lo = Int.max, hi = Int.min
        for row in densities {
            for b in 0..<min(bins, row.count) where row[b].isFinite && row[b] >= floor {
                lo = min(lo, b); hi = max(hi, b)
            }
        }
        guard lo <= hi else { return nil }
        return max(0, lo - 2)..<min(bins, hi + 3)
    }

    /// Score density over training: one row per run, panels pos and neg, plus pos/neg after FT when any run
    /// recorded them (a run without them gets a noted empty panel). Histograms are summed per pixel column
    /// (about 3 columns per point of plot width); colour = density on a shared log scale over three decades.
    public static func heatmap(_ given: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let runs = RunStyling.ordered(given)
        for run in runs {
            _ = try run.requireSteps(for: "heatmap")
            try run.requireStreams([.positive, .negative], for: "heatmap")
        }
        let anyTransformed = runs.contains(where: \.hasTransformedStreams)
        let streams: [ScoreStream] = anyTransformed ? ScoreStream.allCases : [.positive, .negative]
        let (styles, _) = RunStyling.styles(runs)
        // One run: its streams side by side. Up to 8 runs: a column per run, a row per stream (compare momenta
        // across a row). More: a row per run.
        let runsAcross = runs.count > 1 && runs.count <= 8
        let gridRows = runsAcross ? streams.count : runs.count, gridColumns = runsAcross ? runs.count : streams.count
        var figure = makeFigure(options, defaultSize: .text, rows: gridRows, columns: gridColumns,
                                panelAspect: runsAcross ? (gridColumns <= 3 ? 0.6 : 0.85) : streams.count > 2 ? 0.8 : 0.5)
        figure.sharedX = .all
        if runsAcross { figure.sharedY = .row }
        func cell(_ run: Int, _ stream: Int) -> (row: Int, column: Int) { runsAcross ? (stream, run) : (run, stream) }
        // Columns: 3 per point of plot width (an estimate made before layout, on the generous side): at least one
        // per device pixel of a 200 dpi PNG, and enough that vector surfaces need not upscale the raster in x.
        let plotWidth = max(40, (figure.width - 60 - Double(gridColumns - 1) * 22) / Double(gridColumns))
        let wanted = Int(plotWidth * 3)
        let read = try HistogramSums.columns(of: runs, streams: streams, columns: wanted)
        // Densities per run and stream, the shared colour range, and the shared score crops.
        var densities: [[ScoreStream: [[Double]]]] = []
        var peak = 0.0
        for (sums, _, _) in read {
            var perStream: [ScoreStream: [[Double]]] = [:]
            for (stream, s) in sums {
                let columns = (0..<s.slots).map { s.density($0) }
                perStream[stream] = columns
                for column in columns { for v in column where v.isFinite { peak = max(peak, v) } }
            }
            densities.append(perStream)
        }
        if !(peak > 0) { throw .missingData(run: runs[0].name, what: "has only empty histograms: the heatmap figure needs counts") }
        let floor = peak * pow(10, -densityDecades)
        func crop(_ group: [ScoreStream]) -> (Double, Double)? {
            var lo = Double.infinity, hi = -Double.infinity
            for (r, perStream) in densities.enumerated() {
                for stream in group {
                    guard let s = read[r].sums[stream], let columns = perStream[stream],
                          let bins = cropBins(columns, bins: s.bins, floor: floor) else { continue }
                    lo = min(lo, s.lower + Double(bins.lowerBound) * s.binWidth)
                    hi = max(hi, s.lower + Double(bins.upperBound) * s.binWidth)
                }
            }
            return lo < hi ? (lo, hi) : nil
        }
        let cosineCrop = crop([.positive, .negative]), transformedCrop = crop([.positiveTransformed, .negativeTransformed])

        for (r, run) in runs.enumerated() {
            for (c, stream) in streams.enumerated() {
                let (row, column) = cell(r, c)
                var axes = Axes()
                let title: String
                if runsAcross {
                    title = row == 0 ? styles[r].label : ""
                } else {
                    title = runs.count > 1 ? "\(styles[r].label): \(streamTitle(stream))" : streamTitle(stream)
                }
                let transformed = stream == .positiveTransformed || stream == .negativeTransformed
                let yLabel = runsAcross ? streamTitle(stream) + (transformed ? " score" : " cosine score")
                    : transformed ? "score after FT" : "cosine score"
                guard let s = read[r].sums[stream], let columns = densities[r][stream] else {
                    notePanel(&axes, title: title.isEmpty ? nil : title, note: "not recorded")
                    if let crop = transformed ? transformedCrop : cosineCrop { axes.yLimits = crop.0...crop.1 }
                    axes.xLimits = read[r].xRange
                    if column == 0 { axes.yLabel = yLabel }
                    figure[row, column] = axes
                    continue
                }
                let limits = (transformed ? transformedCrop : cosineCrop) ?? (s.lower, s.upper)
                let first = max(0, Int(((limits.0 - s.lower) / s.binWidth).rounded()))
                let last = min(s.bins, Int(((limits.1 - s.lower) / s.binWidth).rounded()))
                let yEdges = (first...last).map { s.lower + Double($0) * s.binWidth }
                let values = columns.map { Array($0[first..<last]) }
                do {
                    try axes.heatmap(xEdges: read[r].xEdges, yEdges: yEdges, values: values, colormap: .viridis,
                                     colorScale: .log, valueRange: floor...peak)
                } catch { throw .plot(error) }
                axes.title = title.isEmpty ? nil : title
                // Runs counted from step 0 or 1: start the axis at 0, so narrow panels still get a "0" tick. Columns
                // on the histogram-block grid may reach past the run's last step: the axis ends at the run's end.
                let xRange = read[r].xRange
                axes.xLimits = (xRange.lowerBound > 0 && xRange.lowerBound <= 1 ? 0 : xRange.lowerBound)...xRange.upperBound
                axes.grid = .none
                axes.legendPosition = .hidden
                axes.xTickFormat = .iterations
                if row == gridRows - 1 { axes.xLabel = "iteration" }
                // Shared score axes: along a row when runs go across, down a column otherwise.
                if runsAcross ? column == 0 : (column == 0 || transformed != (streams[column - 1] == .positiveTransformed
                                                                            || streams[column - 1] == .negativeTransformed)) {
                    axes.yLabel = runsAcross ? yLabel : (transformed ? "score after FT" : "cosine score")
                }
                if row == 0 && column == gridColumns - 1 { axes.colorBar(label: "density") }
                // Labels only for a single run: in a grid of narrow panels they would pile up (the line styles are
                // those of the curves: dotted queue filled, dashed LR drop, dash-dot FT start).
                addMarkers(&axes, runs: [run], onDark: true, labelled: runs.count == 1)
                figure[row, column] = axes
            }
        }
        return figure
    }

    /// The epochs to show: `requested` (each must be recorded and satisfy `usable`) or up to 5 evenly spaced
    /// usable epochs.
    static func chooseEpochs(_ run: RunSource, requested: [Int], figure: String,
                             usable: ((epoch: Int, steps: ClosedRange<Int>)) throws(ReportError) -> Bool) throws(ReportError)
        -> [(epoch: Int, steps: ClosedRange<Int>)] {
        let all = try run.epochRanges()
        var candidates: [(epoch: Int, steps: ClosedRange<Int>)] = []
        for e in all where try usable(e) { candidates.append(e) }
        if candidates.isEmpty { throw .missingData(run: run.name, what: "has no epoch with the histograms the \(figure) figure needs") }
        if requested.isEmpty {
            let picked = evenlySpaced(candidates.map(\.epoch), count: 5)
            return candidates.filter { picked.contains($0.epoch) }
        }
        return try requested.map { (epoch: Int) throws(ReportError) -> (epoch: Int, steps: ClosedRange<Int>) in
            guard let found = candidates.first(where: { $0.epoch == epoch }) else {
                let list = candidates.map(\.epoch)
                let known = list.count > 8 ? "\(list.first!)…\(list.last!)" : list.map(String.init).joined(separator: ", ")
                throw .badOption("run '\(run.name)' has no epoch \(epoch) with the histograms the \(figure) figure needs (it has \(known))")
            }
            return found
        }
    }

    /// Ridgeline series of `sums` (densities per chosen epoch) and the bin range worth showing.
    static func ridgelineSeries(_ sums: StreamSums, label: String, color: Color) -> (series: RidgelineSeries, peak: Double, densities: [[Double]]) {
        let densities = (0..<sums.slots).map { sums.density($0).map { $0.isFinite ? $0 : 0 } }
        let peak = densities.flatMap { $0 }.max() ?? 0
        return (RidgelineSeries(label: label, edges: sums.edges, rows: densities, color: color), peak, densities)
    }

    /// x limits covering where any series' density reaches 1/1000 of the largest peak.
    static func ridgelineLimits(_ parts: [(sums: StreamSums, densities: [[Double]])], peak: Double) -> ClosedRange<Double>? {
        var lo = Double.infinity, hi = -Double.infinity
        for (s, densities) in parts {
            guard let bins = cropBins(densities, bins: s.bins, floor: peak * 1e-3) else { continue }
            lo = min(lo, s.lower + Double(bins.lowerBound) * s.binWidth)
            hi = max(hi, s.lower + Double(bins.upperBound) * s.binWidth)
        }
        return lo < hi ? lo...hi : nil
    }

    static let positiveColor = Palette.categorical(1)   // vermillion
    static let negativeColor = Palette.categorical(0)   // blue

    /// pos and neg score densities at chosen epochs (default: 5 evenly spaced), each summed over the epoch's
    /// steps, one row per epoch; one panel per run.
    public static func ridgeline(_ given: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let runs = RunStyling.ordered(given)
        for run in runs { try run.requireStreams([.positive, .negative], for: "ridgeline") }
        let (styles, _) = RunStyling.styles(runs)
        let columns = gridColumns(runs.count), rows = (runs.count + columns - 1) / columns
        var figure = makeFigure(options, defaultSize: runs.count > 1 ? .text : .column, rows: rows, columns: columns,
                                panelAspect: runs.count > 1 ? 1.1 : 0.85)
        figure.sharedY = .row
        var union: ClosedRange<Double>?
        for (i, run) in runs.enumerated() {
            let epochs = try chooseEpochs(run, requested: options.epochs, figure: "ridgeline") { _ in true }
            let sums = try HistogramSums.epochs(run, streams: [.positive, .negative], epochs: epochs)
            guard let pos = sums[.positive], let neg = sums[.negative], pos.rows.allSatisfy({ $0 > 0 }), neg.rows.allSatisfy({ $0 > 0 }) else {
                throw .missingData(run: run.name, what: "lacks pos or neg histograms in one of epochs "
                    + epochs.map { String($0.epoch) }.joined(separator: ", ") + ": the ridgeline figure needs both")
            }
            let negative = ridgelineSeries(neg, label: "neg", color: negativeColor)
            let positive = ridgelineSeries(pos, label: "pos", color: positiveColor)
            var axes = Axes()
            do {
                try axes.ridgeline([negative.series, positive.series], rowLabels: epochs.map { "epoch \($0.epoch)" })
            } catch { throw .plot(error) }
            if let limits = ridgelineLimits([(neg, negative.densities), (pos, positive.densities)], peak: max(negative.peak, positive.peak)) {
                union = union.map { min($0.lowerBound, limits.lowerBound)...max($0.upperBound, limits.upperBound) } ?? limits
            }
            axes.xLabel = "cosine score"
            if runs.count > 1 { axes.title = styles[i].label }
            axes.legendPosition = i == 0 ? .auto : .hidden
            figure[i / columns, i % columns] = axes
        }
        // One score range for every panel, so runs compare at a glance.
        for i in runs.indices { figure[i / columns, i % columns].xLimits = union }
        for i in runs.count..<(rows * columns) { figure[i / columns, i % columns].isHidden = true }
        return figure
    }

    /// Each stream before and after FT (pos vs pos after FT, neg vs neg after FT) at chosen epochs (default: 5
    /// evenly spaced among the epochs with FT histograms), summed over each epoch's steps; one row of two panels
    /// per run. Throws `missingData` for a run that recorded no FT streams.
    public static func featureTransformShift(_ given: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let runs = RunStyling.ordered(given)
        for run in runs {
            try run.requireStreams([.positive, .negative, .positiveTransformed, .negativeTransformed], for: "ft-shift",
                                   why: " (FT was off, or the store predates FT recording)")
        }
        let (styles, _) = RunStyling.styles(runs)
        var figure = makeFigure(options, defaultSize: .text, rows: runs.count, columns: 2, panelAspect: 0.75)
        figure.sharedY = .row
        var unions: [ClosedRange<Double>?] = [nil, nil]
        for (r, run) in runs.enumerated() {
            let reader = run.reader
            let epochs = try chooseEpochs(run, requested: options.epochs, figure: "ft-shift") { e throws(ReportError) in
                try ReportError.wrap { try reader.histogram(.positiveTransformed, step: e.steps.upperBound) != nil }
            }
            let sums = try HistogramSums.epochs(run, streams: ScoreStream.allCases, epochs: epochs)
            for (c, pair) in [(ScoreStream.positive, ScoreStream.positiveTransformed), (.negative, .negativeTransformed)].enumerated() {
                guard let before = sums[pair.0], let after = sums[pair.1], before.rows.allSatisfy({ $0 > 0 }), after.rows.allSatisfy({ $0 > 0 }) else {
                    throw .missingData(run: run.name, what: "lacks \(pair.0.rawValue) or \(pair.1.rawValue) histograms in one of epochs "
                        + epochs.map { String($0.epoch) }.joined(separator: ", ") + ": the ft-shift figure needs both")
                }
                let color = c == 0 ? positiveColor : negativeColor
                let b = ridgelineSeries(before, label: "\(streamTitle(pair.0)) (cosine)", color: Color.gray)
                let a = ridgelineSeries(after, label: streamTitle(pair.1), color: color)
                var axes = Axes()
                do {
                    try axes.ridgeline([b.series, a.series], rowLabels: epochs.map { "epoch \($0.epoch)" })
                } catch { throw .plot(error) }
                if let limits = ridgelineLimits([(before, b.densities), (after, a.densities)], peak: max(a.peak, b.peak)) {
                    unions[c] = unions[c].map { min($0.lowerBound, limits.lowerBound)...max($0.upperBound, limits.upperBound) } ?? limits
                }
                axes.xLabel = c == 0 ? "positive score" : "negative score"
                axes.title = runs.count > 1 ? "\(styles[r].label): \(c == 0 ? "pos" : "neg")" : (c == 0 ? "positives" : "negatives")
                axes.legendPosition = r == 0 ? .auto : .hidden
                figure[r, c] = axes
            }
        }
        // One score range per column (pos, neg) across runs.
        for r in runs.indices { for c in 0..<2 { figure[r, c].xLimits = unions[c] } }
        return figure
    }
}
