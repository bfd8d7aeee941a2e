// ReportFigures: the entry point that draws any FigureKind from run stores, checks which options apply to which
// kind, and the helpers every kind shares: page sizes, event markers (queue filled, LR drop, FT start), empty
// panels that carry a note, and writing a figure to PNG/SVG/PDF with typed errors.
// Each kind lives in its own file (Figures+Curves.swift, Figures+Histograms.swift, ...).
// Deliberately not here: reading stores beyond RunSource, and choosing which figures a report contains.
import Analysis
import Foundation
import Plotting
import Recording

/// Figures from run stores: one function per kind, each returning a Plotting `Figure`.
public enum ReportFigures {
    /// Opens the runs under `directories` (run folders or folders of runs) and draws `kind`.
    public static func figure(_ kind: FigureKind, directories: [String], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        try figure(kind, runs: RunSource.open(directories), options: options)
    }

    /// Draws `kind` for `runs` (at least one). Throws `badOption` when an option does not apply to the kind,
    /// `missingData` when a run lacks what the kind needs.
    public static func figure(_ kind: FigureKind, runs: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        try check(options, for: kind)
        if runs.isEmpty { throw .noRuns("the \(kind.rawValue) figure needs at least one run") }
        switch kind {
        case .curves: return try curves(runs, options: options)
        case .variousM: return try variousMomenta(runs, options: options)
        case .heatmap: return try heatmap(runs, options: options)
        case .ridgeline: return try ridgeline(runs, options: options)
        case .ftShift: return try featureTransformShift(runs, options: options)
        case .training: return try training(runs, options: options)
        case .sphere: return try sphere(runs, options: options)
        case .ablation: return try ablation(runs, options: options)
        }
    }

    /// Throws `badOption` for options the kind ignores, so a typo is never silently dropped.
    public static func check(_ options: FigureOptions, for kind: FigureKind) throws(ReportError) {
        if !options.series.isEmpty && ![.curves, .variousM].contains(kind) {
            throw .badOption("--series applies to curves and various-m, not to \(kind.rawValue)")
        }
        if !options.epochs.isEmpty && ![.ridgeline, .ftShift, .sphere].contains(kind) {
            throw .badOption("--epochs applies to ridgeline, ft-shift and sphere, not to \(kind.rawValue)")
        }
        if options.style != .standard && kind != .variousM {
            throw .badOption("--style \(options.style.rawValue) applies to various-m only")
        }
        if kind == .sphere && options.epochs.count > 1 {
            throw .badOption("sphere shows one epoch's samples: give one --epochs value, got \(options.epochs.count)")
        }
    }

    /// Writes `figure` to `path` (PNG, SVG or PDF by extension; PNG at `dpi`, default 200).
    public static func write(_ figure: Figure, to path: String, dpi: Double = 200) throws(ReportError) {
        do { try figure.write(to: path, dpi: dpi) } catch { throw .plot(error) }
    }

    // MARK: - Shared helpers

    /// A figure of `options.size` (or `defaultSize`) with a grid of panels. `panelAspect` is height / width of
    /// one plot area; the height follows from it unless the size gives one.
    static func makeFigure(_ options: FigureOptions, defaultSize: FigureSize, rows: Int, columns: Int,
                           panelAspect: Double = 0.72, extraHeight: Double = 0) -> Figure {
        let size = options.size ?? defaultSize
        var figure: Figure
        switch size {
        case .points(let width, let height):
            figure = Figure(width: width, height: height, rows: rows, columns: columns)
        case .column, .text:
            let width = size == .column ? FigureSize.columnWidth : FigureSize.textWidth
            let panelWidth = (width - 40 - Double(columns - 1) * 14) / Double(columns)
            let height = Double(rows) * (panelWidth * panelAspect + 36) + 14 + extraHeight + (options.title == nil ? 0 : 14)
            figure = Figure(width: width, height: height.rounded(), rows: rows, columns: columns)
        }
        figure.title = options.title
        return figure
    }

    /// Event markers of `runs` on `axes`: queue filled (dotted), LR drops (dashed), FT start (dash-dot), one
    /// line per distinct step, labelled (up to three labels per kind). Events at or before the first recorded step
    /// are left out: a line on the frame says nothing. `onDark` picks a light grey that shows on a heat map;
    /// `labelled` false draws the lines only (lower rows of a grid, whose top row carries the labels).
    static func addMarkers(_ axes: inout Axes, runs: [RunSource], onDark: Bool = false, labelled: Bool = true,
                           position: (Int) -> Double? = { Double($0) }) {
        let kinds: [(EventKind, String, Dash)] = [(.queueFilled, "queue filled", .dotted), (.learningRateDrop, "LR drop", .dashed),
                                                  (.featureTransformStarted, "FT start", .dashDot)]
        let first = runs.compactMap { $0.stepRange?.lowerBound }.min() ?? 0
        let color = onDark ? Color(red8: 0xc8, green8: 0xc8, blue8: 0xc8) : Color(red8: 0x80, green8: 0x80, blue8: 0x80)
        for (kind, label, dash) in kinds {
            var steps: [Int] = []
            for run in runs { for e in run.events where e.kind == kind && e.step > first && !steps.contains(e.step) { steps.append(e.step) } }
            for (i, step) in steps.sorted().enumerated() {
                guard let x = position(step) else { continue }
                axes.verticalMarker(x: x, label: labelled && i < 3 ? label : nil, color: color, dash: dash)
            }
        }
    }

    /// A step's position on an axis of epochs trained: the number of recorded epochs before the step's epoch plus
    /// the fraction of that epoch done at the end of the step (the end of the first epoch is 1, whether the trainer
    /// numbers epochs from 0 or 1); nil for a step outside the recorded epochs.
    static func epochPosition(_ epochs: [(epoch: Int, steps: ClosedRange<Int>)]) -> (Int) -> Double? {
        { step in
            guard let index = epochs.firstIndex(where: { $0.steps.contains(step) }) else { return nil }
            let e = epochs[index]
            return Double(index) + Double(step - e.steps.lowerBound + 1) / Double(e.steps.count)
        }
    }

    /// Columns for `count` panels in a grid of at most `maxColumns` columns, balanced so the last row is as full as
    /// possible (5 → 3 + 2, 7 → 4 + 3).
    static func gridColumns(_ count: Int, maxColumns: Int = 4) -> Int {
        let rows = (count + maxColumns - 1) / maxColumns
        return max(1, (count + rows - 1) / rows)
    }

    /// Turns `axes` into an empty framed panel whose note (e.g. "no kNN evaluations recorded") sits under it.
    static func notePanel(_ axes: inout Axes, title: String?, note: String) {
        axes.title = title
        axes.xLabel = note
        axes.yLabel = nil
        axes.grid = .none
        axes.legendPosition = .hidden
        try? axes.setXTicks([], labels: [])
        try? axes.setYTicks([], labels: [])
    }

    /// x axis of iterations: label and 10k-style ticks.
    static func iterationAxis(_ axes: inout Axes) {
        axes.xLabel = "iteration"
        axes.xTickFormat = .iterations
    }

    /// Up to `count` evenly spaced values of `available` (sorted), always with the first and the last.
    static func evenlySpaced(_ available: [Int], count: Int) -> [Int] {
        guard available.count > count, count > 1 else { return available }
        var picked: [Int] = []
        for i in 0..<count {
            let value = available[Int((Double(i) * Double(available.count - 1) / Double(count - 1)).rounded())]
            if !picked.contains(value) { picked.append(value) }
        }
        return picked
    }

    /// Legend placement for a row of panels: inside (where it hides least) on one panel for up to three entries,
    /// to the right of the last panel for more, so a long legend never covers data.
    static func placeLegend(_ figure: inout Figure, row: Int = 0, entries: Int, preferredColumn: Int = 0) {
        for c in 0..<figure.columns { figure[row, c].legendPosition = .hidden }
        if entries == 0 { return }
        if entries > 3 {
            figure[row, figure.columns - 1].legendPosition = .outsideRight
        } else {
            figure[row, min(preferredColumn, figure.columns - 1)].legendPosition = .auto
        }
    }
}
