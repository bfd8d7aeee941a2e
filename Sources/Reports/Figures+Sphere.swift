// The `sphere` figure: the geometry of the feature transformations from stored vector samples, after the paper's
// sketch. Left: the plane of a query z_q and its key z_k (z_q on the x axis), with the unit circle, and the
// extrapolated ẑ_q, ẑ_k on the line through them, outside the circle (no renormalisation). Right: the plane of a
// queue row n_j and its mixed row n̂_j = λ n_j + (1 − λ) n_π(j), with the partner n_π(j) recovered from the
// step's λ_in (shown when it comes out of unit length), n̂_j inside the circle. Every sampled pair is shown as a
// faint dot in its own plane; the first one is drawn as vectors from the origin.
// Deliberately not here: any projection that mixes planes of different pairs (each pair is in its own plane).
import Foundation
import Plotting
import Recording

extension ReportFigures {
    /// The FT geometry of each run's last sample step (or the last sample of `options.epochs[0]`); one row of two
    /// panels per run. Throws `missingData` for a run without samples.
    public static func sphere(_ given: [RunSource], options: FigureOptions = FigureOptions()) throws(ReportError) -> Figure {
        let runs = RunStyling.ordered(given)
        let (styles, _) = RunStyling.styles(runs)
        var figure = makeFigure(options, defaultSize: .text, rows: runs.count, columns: 2,
                                panelAspect: 1, extraHeight: 24)
        for (r, run) in runs.enumerated() {
            let reader = run.reader
            var steps = try ReportError.wrap { try reader.sampleSteps() }
            if steps.isEmpty {
                throw .missingData(run: run.name, what: "has no geometry samples (the trainer's sampleEvery was 0): the sphere figure needs them")
            }
            if let epoch = options.epochs.first {
                let ranges = try run.epochRanges()
                guard let range = ranges.first(where: { $0.epoch == epoch })?.steps else {
                    throw .badOption("run '\(run.name)' has no epoch \(epoch)")
                }
                steps = steps.filter { range.contains($0) }
                if steps.isEmpty { throw .badOption("run '\(run.name)' has no geometry sample in epoch \(epoch)") }
            }
            let step = steps[steps.count - 1]
            let samples = try ReportError.wrap { try reader.samples(step: step) }
            let lambdaIn = try ReportError.wrap { try reader.steps(in: step...step).first?.lambdaInterpolation }
            let prefix = runs.count > 1 ? "\(styles[r].label): " : ""
            var left = Axes(), right = Axes()
            try positivePanel(&left, samples: samples)
            try negativePanel(&right, samples: samples, lambda: lambdaIn)
            left.title = prefix + "positive extrapolation (step \(step))"
            right.title = prefix + "negative interpolation (step \(step))"
            figure[r, 0] = left
            figure[r, 1] = right
        }
        if case .points = options.size {} else { squarePanels(&figure) }
        return figure
    }

    static func vector(_ samples: [GeometrySample], _ kind: SampleKind, _ index: Int) -> [Double]? {
        samples.first { $0.kind == kind && $0.index == index }.map { $0.vector.map(Double.init) }
    }

    /// Coordinates of `v` in the orthonormal basis (e1, e2) of the plane of `a` and `b` (e1 along `a`); nil when
    /// `a` and `b` are (nearly) parallel or of another length.
    static func planeBasis(_ a: [Double], _ b: [Double]) -> (e1: [Double], e2: [Double])? {
        guard a.count == b.count, !a.isEmpty else { return nil }
        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard na > 1e-9 else { return nil }
        let e1 = a.map { $0 / na }
        let along = zip(b, e1).reduce(0) { $0 + $1.0 * $1.1 }
        let rest = zip(b, e1).map { $0 - along * $1 }
        let nr = rest.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard nr > 1e-6 else { return nil }
        return (e1, rest.map { $0 / nr })
    }

    static func project(_ v: [Double], _ basis: (e1: [Double], e2: [Double])) -> (Double, Double) {
        (zip(v, basis.e1).reduce(0) { $0 + $1.0 * $1.1 }, zip(v, basis.e2).reduce(0) { $0 + $1.0 * $1.1 })
    }

    static func unitCircle(_ axes: inout Axes) throws(ReportError) {
        let angles = (0...240).map { Double($0) / 240 * 2 * .pi }
        do {
            try axes.line(x: angles.map(cos), y: angles.map(sin), color: Color(red8: 0x9a, green8: 0x9a, blue8: 0x9a), width: 0.7)
        } catch { throw .plot(error) }
        fitLimits(&axes, [])
        axes.grid = .none
        axes.xLabel = "along first vector"
    }

    /// Square limits around the origin holding the unit circle and `points` with room for their labels.
    static func fitLimits(_ axes: inout Axes, _ points: [(Double, Double)]) {
        let reach = points.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }.max() ?? 0
        let r = max(1.3, reach * 1.22 + 0.08)
        axes.xLimits = -r...r
        axes.yLimits = -r...r
    }

    /// A vector from the origin with a dot at its tip, labelled just beyond the tip (away from the origin).
    static func arrow(_ axes: inout Axes, _ p: (Double, Double), label: String, color: Color, dash: Dash = .solid,
                      vertical forced: TextAnchor.Vertical? = nil) throws(ReportError) {
        do {
            try axes.line(x: [0, p.0], y: [0, p.1], color: color, width: 1.1, dash: dash)
            try axes.scatter(x: [p.0], y: [p.1], color: color, size: 4)
        } catch { throw .plot(error) }
        let length = max((p.0 * p.0 + p.1 * p.1).squareRoot(), 1e-9)
        let out = (p.0 + 0.09 * p.0 / length, p.1 + 0.09 * p.1 / length)
        let horizontal: TextAnchor.Horizontal = abs(p.0 / length) < 0.35 ? .center : p.0 >= 0 ? .left : .right
        let vertical: TextAnchor.Vertical = forced ?? (abs(p.1 / length) < 0.35 ? .center : p.1 >= 0 ? .bottom : .top)
        axes.annotate(label, x: out.0, y: out.1, anchor: TextAnchor(horizontal, vertical), color: color.darkened(0.25))
    }

    static func positivePanel(_ axes: inout Axes, samples: [GeometrySample]) throws(ReportError) {
        try unitCircle(&axes)
        let indices = Set(samples.filter { $0.kind == .query }.map(\.index)).sorted()
        guard let first = indices.first(where: { vector(samples, .key, $0) != nil }),
              let q = vector(samples, .query, first), let k = vector(samples, .key, first), let basis = planeBasis(q, k) else {
            notePanel(&axes, title: nil, note: "no query/key samples at this step")
            return
        }
        let faint = Palette.categorical(2).withAlpha(0.35)
        var otherKeys: [(Double, Double)] = []
        for i in indices where i != first {
            if let qi = vector(samples, .query, i), let ki = vector(samples, .key, i), let b = planeBasis(qi, ki) { otherKeys.append(project(ki, b)) }
        }
        do {
            if !otherKeys.isEmpty {
                try axes.scatter(x: otherKeys.map(\.0), y: otherKeys.map(\.1), label: "keys of the other sampled pairs", color: faint, size: 2.6)
            }
        } catch { throw .plot(error) }
        let zq = project(q, basis), zk = project(k, basis)
        var shown = [zq, zk] + otherKeys
        // Nearly equal vectors (a collapsed pair) get their labels above and below the tip instead of on top of
        // each other.
        let close = hypot(zq.0 - zk.0, zq.1 - zk.1) < 0.2
        try arrow(&axes, zq, label: "z_q", color: Palette.categorical(0), vertical: close ? .top : nil)
        try arrow(&axes, zk, label: "z_k", color: Palette.categorical(2), vertical: close ? .bottom : nil)
        if let tq = vector(samples, .transformedQuery, first), let tk = vector(samples, .transformedKey, first) {
            let pq = project(tq, basis), pk = project(tk, basis)
            do {
                // The line of λ through z_q and z_k, out to the transformed pair.
                try axes.line(x: [pk.0, pq.0], y: [pk.1, pq.1], color: Color.gray, width: 0.6, dash: .dashed)
            } catch { throw .plot(error) }
            shown += [pq, pk]
            try arrow(&axes, pq, label: "ẑ_q", color: Palette.categorical(1))
            try arrow(&axes, pk, label: "ẑ_k", color: Palette.categorical(3))
            let s = zip(q, k).reduce(0) { $0 + $1.0 * $1.1 }, st = zip(tq, tk).reduce(0) { $0 + $1.0 * $1.1 }
            axes.xLabel = String(format: "z_q·z_k = %.2f, ẑ_q·ẑ_k = %.2f", s, st)
        } else {
            axes.xLabel = "no transformed pair recorded (FT off)"
        }
        axes.legendPosition = otherKeys.isEmpty ? .hidden : .lowerLeft
        fitLimits(&axes, shown)
    }

    static func negativePanel(_ axes: inout Axes, samples: [GeometrySample], lambda: Double?) throws(ReportError) {
        try unitCircle(&axes)
        let rows = Set(samples.filter { $0.kind == .negative }.map(\.index)).sorted()
        guard let j = rows.first(where: { vector(samples, .mixedNegative, $0) != nil }),
              let n = vector(samples, .negative, j), let mixed = vector(samples, .mixedNegative, j), let basis = planeBasis(n, mixed) else {
            if let first = rows.first, let n = vector(samples, .negative, first), let q = vector(samples, .query, 0),
               let basis = planeBasis(q, n) {
                let pq = project(q, basis), pn = project(n, basis)
                let close = hypot(pq.0 - pn.0, pq.1 - pn.1) < 0.2
                try arrow(&axes, pq, label: "z_q", color: Palette.categorical(0), vertical: close ? .top : nil)
                try arrow(&axes, pn, label: "n_j", color: Palette.categorical(5), vertical: close ? .bottom : nil)
                axes.xLabel = "no mixed negatives recorded (FT off)"
                axes.legendPosition = .hidden
            } else {
                notePanel(&axes, title: nil, note: "no negative samples at this step")
            }
            return
        }
        let pn = project(n, basis), pm = project(mixed, basis)
        try arrow(&axes, pn, label: "n_j", color: Palette.categorical(5))
        // The partner from the mix: n_π(j) = (n̂_j − λ n_j) / (1 − λ), shown when λ is known and it is a unit vector.
        if let lambda, abs(1 - lambda) > 1e-3 {
            let partner = zip(mixed, n).map { ($0 - lambda * $1) / (1 - lambda) }
            let norm = partner.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if abs(norm - 1) < 0.05 {
                let pp = project(partner, basis)
                do { try axes.line(x: [pn.0, pp.0], y: [pn.1, pp.1], color: Color.gray, width: 0.6, dash: .dashed) } catch { throw .plot(error) }
                try arrow(&axes, pp, label: "n_π(j)", color: Palette.categorical(4))
                fitLimits(&axes, [pn, pp])
            }
        }
        try arrow(&axes, pm, label: "n̂_j", color: Palette.categorical(1))
        let norm = mixed.reduce(0) { $0 + $1 * $1 }.squareRoot()
        axes.xLabel = lambda.map { String(format: "λ_in = %.2f, |n̂_j| = %.2f", $0, norm) } ?? String(format: "|n̂_j| = %.2f", norm)
        axes.legendPosition = .hidden
    }

    /// Adjusts the figure height so the panels' plot areas are square (circles stay round).
    static func squarePanels(_ figure: inout Figure) {
        for _ in 0..<3 {
            let layout = figure.layout(measuringWith: RecordingRenderer())
            guard let plot = layout.axes.first?.plot, plot.width > 10 else { return }
            let change = (plot.width - plot.height) * Double(figure.rows)
            if abs(change) < 0.5 { return }
            figure.height = max(60, figure.height + change)
        }
    }
}
