// The per-step score curves: `curves` (the paper's neg variance / neg mean / pos mean panels, one line per run,
// legend "m=0.99 | 84.1") and `various-m` (the paper's pseudo-3-D view, one ribbon per momentum along a depth
// axis, or small multiples with `--style grid`). Long runs are drawn by the plotting library as a min/max
// envelope per pixel column plus the mean, so spikes stay visible.
// Deliberately not here: histogram figures (Figures+Histograms.swift).
import Foundation
import Plotting
import Recording

extension ReportFigures {
    /// neg variance (per query), neg mean and pos mean against the iteration (or `options.series`), one panel
    /// per series side by side, one line per run coloured by momentum, markers from the events. Loss, gradient
    /// norm and learning rate use log axes; so do variances whose values span more than 1.5 decades.
    public static func curves(_ runs: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let series = options.series.isEmpty ? FigureOptions.defaultSeries : options.series
        for run in runs { _ = try run.requireSteps(for: "curves") }
        let (styles, order) = RunStyling.styles(runs)
        let data = try HistogramSums.parallelMap(runs.count) { i throws(ReportError) in try runs[i].series(series) }

        var figure = makeFigure(options, defaultSize: series.count > 1 ? .text : .column, rows: 1, columns: series.count,
                                panelAspect: series.count > 1 ? 0.85 : 0.68)
        figure.sharedX = .all
        for (c, column) in series.enumerated() {
            var axes = Axes()
            axes.title = column.title
            iterationAxis(&axes)
            if [.loss, .gradientNorm, .learningRate].contains(column) || (isVariance(column) && spansDecades(data.map { $0.values[c] })) {
                axes.yScale = .log
            }
            for i in order {
                do {
                    try axes.line(x: data[i].steps, y: data[i].values[c], label: styles[i].leadsGroup ? styles[i].legend : nil,
                                  color: styles[i].color, width: 0.9)
                } catch { throw .plot(error) }
            }
            addMarkers(&axes, runs: runs)
            figure[0, c] = axes
        }
        if series.count == 1 { figure[0, 0].yLabel = series[0].title; figure[0, 0].title = nil }
        placeLegend(&figure, entries: styles.filter(\.leadsGroup).count, preferredColumn: series.count - 1)
        return figure
    }

    static func isVariance(_ column: StepColumn) -> Bool {
        [.negativeVarianceQuery, .negativeVarianceAll, .positiveVariance].contains(column)
    }

    /// True when the positive finite values span more than 1.5 decades (a variance panel is then drawn on a log
    /// axis, so settings whose variances differ 30-fold all stay readable).
    static func spansDecades(_ series: [[Double]]) -> Bool {
        var low = Double.infinity, high = 0.0
        for values in series { for v in values where v.isFinite && v > 0 { low = min(low, v); high = max(high, v) } }
        return high > 0 && high / low > pow(10, 1.5)
    }

    /// The paper's "various m" view: per series (default neg variance, neg mean, pos mean) a 3-D panel with one
    /// ribbon per momentum, largest momentum in front; runs of the same setting (seeds) show their first run.
    /// `--style grid`: small multiples instead, one row per series and one column per setting, shared axes.
    public static func variousMomenta(_ runs: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let series = options.series.isEmpty ? FigureOptions.defaultSeries : options.series
        for run in runs { _ = try run.requireSteps(for: "various-m") }
        let (styles, order) = RunStyling.styles(runs)
        // One run per setting, front to back: largest momentum first (order is ascending).
        let leaders = order.reversed().filter { styles[$0].leadsGroup }
        let byMomentum = leaders.allSatisfy { runs[$0].momentum != nil }
        var data: [Int: (steps: [Double], values: [[Double]])] = [:]
        for i in leaders { data[i] = try runs[i].series(series) }
        func depthLabel(_ i: Int) -> String {
            byMomentum ? RunStyling.momentumText(runs[i].momentum ?? 0) : styles[i].label
        }

        if options.style == .grid {
            var figure = makeFigure(options, defaultSize: .text, rows: series.count, columns: leaders.count,
                                    panelAspect: leaders.count > 4 ? 0.95 : 0.75)
            figure.sharedX = .all
            figure.sharedY = .row
            for (r, column) in series.enumerated() {
                for (c, i) in leaders.enumerated() {
                    var axes = Axes()
                    if r == 0 { axes.title = byMomentum ? "m=" + depthLabel(i) : styles[i].label }
                    if c == 0 { axes.yLabel = column.title }
                    if r == series.count - 1 { iterationAxis(&axes) } else { axes.xTickFormat = .iterations }
                    do {
                        try axes.line(x: data[i]!.steps, y: data[i]!.values[r], color: styles[i].color, width: 0.8)
                    } catch { throw .plot(error) }
                    axes.legendPosition = .hidden
                    addMarkers(&axes, runs: [runs[i]], labelled: false)
                    figure[r, c] = axes
                }
            }
            return figure
        }

        var figure = makeFigure(options, defaultSize: series.count > 1 ? .text : .column, rows: 1, columns: series.count,
                                panelAspect: 0.95)
        for (c, column) in series.enumerated() {
            var axes = Axes()
            let ribbons = leaders.enumerated().map { rank, i in
                Ribbon(depth: Double(rank), label: depthLabel(i), x: data[i]!.steps, y: data[i]!.values[c], color: styles[i].color)
            }
            do { try axes.ribbons3D(ribbons, depthLabel: byMomentum ? "momentum m" : "run") } catch { throw .plot(error) }
            axes.title = column.title
            iterationAxis(&axes)
            figure[0, c] = axes
        }
        return figure
    }
}
