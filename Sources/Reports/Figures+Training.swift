// The `training` figure (loss and gradient norm per run against the iteration on log axes, kNN top-1 per epoch)
// and the `ablation` figure (bars of top-1 per setting with 95 % t-intervals over seeds, from SweepAnalysis).
// Accuracies are shown as stored: percent (0–100).
// Deliberately not here: the score-distribution figures.
import Analysis
import Foundation
import Plotting
import Recording

extension ReportFigures {
    /// Loss and gradient norm against the iteration (log y), and kNN top-1 against the epochs trained; one line
    /// per run coloured like `curves`. Runs without kNN evaluations leave the third panel with a note.
    public static func training(_ runs: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        for run in runs { _ = try run.requireSteps(for: "training") }
        let (styles, order) = RunStyling.styles(runs)
        var data: [(steps: [Double], values: [[Double]])] = []
        for run in runs { data.append(try run.series([.loss, .gradientNorm])) }
        var figure = makeFigure(options, defaultSize: .text, rows: 1, columns: 3, panelAspect: 0.85)
        for (c, column) in [StepColumn.loss, .gradientNorm].enumerated() {
            var axes = Axes()
            axes.title = column.title
            axes.yScale = .log
            iterationAxis(&axes)
            for i in order {
                do { try axes.line(x: data[i].steps, y: data[i].values[c], color: styles[i].color, width: 0.9) } catch { throw .plot(error) }
            }
            addMarkers(&axes, runs: runs)
            figure[0, c] = axes
        }
        var accuracy = Axes()
        let withEvals = order.filter { i in runs[i].evals.contains { $0.kind == .knn && $0.top1.isFinite } }
        if withEvals.isEmpty {
            notePanel(&accuracy, title: "kNN top-1 (%)", note: "no kNN evaluations recorded")
        } else {
            accuracy.title = "kNN top-1 (%)"
            accuracy.xLabel = "epochs trained"
            for i in order {
                let points = try knnPoints(runs[i])
                let label = styles[i].leadsGroup ? styles[i].legend : nil
                if points.isEmpty { continue }
                let x = points.map(\.epochs), y = points.map(\.top1)
                do {
                    try accuracy.line(x: x, y: y, label: label, color: styles[i].color, width: 0.9)
                    if points.count <= 30 { try accuracy.scatter(x: x, y: y, color: styles[i].color, size: 2.2) }
                } catch { throw .plot(error) }
            }
        }
        if let i = withEvals.first {
            // The same events on the epoch axis (epochs of the first run with evaluations), so the panels read alike.
            addMarkers(&accuracy, runs: runs, position: epochPosition(try runs[i].epochRanges()))
        }
        figure[0, 2] = accuracy
        let entries = withEvals.filter { styles[$0].leadsGroup }.count
        placeLegend(&figure, entries: entries, preferredColumn: 2)
        return figure
    }

    /// The run's kNN evaluations as (epochs trained, top-1 %): x is the number of epochs completed at the
    /// evaluation's step (0 for one before the first step), whatever the trainer's epoch numbering, so an
    /// evaluation at the start and one after the first epoch never share an x. Evaluations at steps outside the
    /// recorded epochs are left out.
    static func knnPoints(_ run: RunSource) throws(ReportError) -> [(epochs: Double, top1: Double)] {
        let position = epochPosition(try run.epochRanges())
        let first = run.stepRange?.lowerBound ?? 0
        return run.evals.filter { $0.kind == .knn && $0.top1.isFinite }.compactMap { e in
            guard let x = e.step < first ? 0 : position(e.step) else { return nil }
            return (x, e.top1)
        }
    }

    /// Top-1 per setting from a sweep analysis: kNN (and linear, when any run has it) bars with 95 % t-interval
    /// error bars over each setting's runs. Settings are the analysis' groups.
    public static func ablation(_ analysis: SweepAnalysis, options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let groups = analysis.groups
        let kinds = ["knn_top1", "linear_top1"].filter { key in groups.contains { ($0.intervals[key]?.count ?? 0) > 0 } }
        let anyInterval = groups.contains { g in kinds.contains { (g.intervals[$0]?.count ?? 0) > 1 } }
        if groups.isEmpty || kinds.isEmpty {
            throw .missingData(run: analysis.runs.first?.name ?? "?", what: "and the other runs have no kNN or linear evaluations: the ablation figure needs them")
        }
        var figure = makeFigure(options, defaultSize: .column, rows: 1, columns: 1, panelAspect: 0.62,
                                extraHeight: groups.count > 3 ? 18 : 0)
        var axes = Axes()
        let width = kinds.count == 2 ? 0.38 : 0.6
        var lowest = Double.infinity, highest = -Double.infinity
        for key in kinds {
            for g in groups {
                guard let ci = g.intervals[key], ci.count > 0, ci.mean.isFinite else { continue }
                let half = ci.count > 1 && ci.halfWidth.isFinite ? ci.halfWidth : 0
                lowest = min(lowest, ci.mean - half); highest = max(highest, ci.mean + half)
            }
        }
        // Accuracies differ by a point or two: bars stand on a baseline just below the lowest interval.
        let base = max(0, (lowest - max(2, 0.15 * (highest - lowest))).rounded(.down))
        for (k, key) in kinds.enumerated() {
            let offset = kinds.count == 2 ? (k == 0 ? -0.2 : 0.2) : 0
            // Settings with one run get no error bar (an interval needs two); they are drawn as a second, unlabelled
            // set of bars in the same colour.
            var withInterval: (x: [Double], heights: [Double], errors: [Double]) = ([], [], [])
            var single: (x: [Double], heights: [Double]) = ([], [])
            for (i, g) in groups.enumerated() {
                guard let ci = g.intervals[key], ci.count > 0, ci.mean.isFinite else { continue }
                if ci.count > 1 && ci.halfWidth.isFinite {
                    withInterval.x.append(Double(i) + offset); withInterval.heights.append(ci.mean); withInterval.errors.append(ci.halfWidth)
                } else {
                    single.x.append(Double(i) + offset); single.heights.append(ci.mean)
                }
            }
            let label = key == "knn_top1" ? "kNN top-1" : "linear top-1"
            let color = key == "knn_top1" ? negativeColor : positiveColor
            do {
                if !withInterval.x.isEmpty {
                    try axes.bars(x: withInterval.x, heights: withInterval.heights, errors: .symmetric(withInterval.errors),
                                  width: width, baseline: base, label: label, color: color)
                }
                if !single.x.isEmpty {
                    try axes.bars(x: single.x, heights: single.heights, width: width, baseline: base,
                                  label: withInterval.x.isEmpty ? label : nil, color: color)
                }
            } catch { throw .plot(error) }
        }
        let labels = groups.map { g in
            g.settings.isEmpty ? "all runs" : g.settings.map { s -> String in
                s.key == "momentum" ? "m=\(s.value)" : s.value.description
            }.joined(separator: ", ")
        }
        do { try axes.setXTicks(groups.indices.map(Double.init), labels: labels) } catch { throw .plot(error) }
        axes.xLimits = -0.6...(Double(groups.count) - 0.4)
        axes.yLimits = base...min(100, (highest + max(1.5, 0.25 * (highest - base))).rounded(.up))
        axes.yLabel = "top-1 accuracy (%)"
        let keys = analysis.groupKeys
        axes.xLabel = keys.isEmpty ? nil : keys.count == 1 && keys[0] == "momentum" ? "key momentum m"
            : keys.joined(separator: ", ")
        axes.grid = .horizontal
        axes.legendPosition = kinds.count > 1 ? .auto : .hidden
        if kinds.count == 1 {
            axes.title = (kinds[0] == "knn_top1" ? "kNN top-1" : "linear top-1") + (anyInterval ? " (mean ± 95 % CI)" : "")
        }
        figure[0, 0] = axes
        return figure
    }

    /// Analyses `runs` and draws `ablation(_:options:)`, grouping by the FT keys ("ft.…") that vary, or else by
    /// every varying non-seed key.
    public static func ablation(_ runs: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        var analyses: [RunAnalysis] = []
        for run in runs {
            analyses.append(try ReportError.wrap { try RunAnalyzer.analyze(directory: run.directory, options: AnalysisOptions(quantiles: [])) })
        }
        return try ablation(SweepAnalysis(runs: analyses, groupBy: ablationKeys(analyses)), options: options)
    }

    /// The varying "ft.…" keys of `runs`, or nil (= every varying non-seed key) when none varies.
    public static func ablationKeys(_ runs: [RunAnalysis]) -> [String]? {
        let varying = SweepAnalysis.varyingKeys(runs.map(\.config), ignoring: SweepAnalysis.defaultIgnoredKeys)
        let ft = varying.filter { $0.hasPrefix("ft.") }
        return ft.isEmpty ? nil : ft
    }
}
