// Gallery: the example figures the tests render and check (one per artist kind, at paper sizes), built from
// deterministic synthetic series. Set SCORESCOPE_PLOT_GALLERY=/some/folder to also write them as PNG/SVG/PDF
// for looking at them. It deliberately uses no project data: the Reports tests cover run stores.

import Foundation
import Plotting

/// A tiny deterministic generator for test series (SplitMix64).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = Swift.max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

enum Gallery {
    static let momenta = [0.9, 0.99, 0.999]

    /// A neg-score variance-like curve: decays then settles, noisier for small momentum.
    static func curve(steps: Int, momentum: Double, seed: UInt64, stride: Int = 50) -> (x: [Double], y: [Double]) {
        var rng = TestRandom(seed: seed)
        var xs: [Double] = [], ys: [Double] = []
        let noise = 0.02 * (1 - momentum).squareRoot() * 10
        for s in Swift.stride(from: 0, through: steps, by: stride) {
            let t = Double(s) / Double(steps)
            xs.append(Double(s))
            ys.append(0.012 + 0.05 * exp(-6 * t) + 0.004 * momentum + noise * 0.05 * rng.normal())
        }
        return (xs, ys)
    }

    static func curves() throws -> Figure {
        var figure = Figure(size: .text, rows: 1, columns: 3)
        figure.sharedX = .all
        let titles = ["neg variance", "neg mean", "pos mean"]
        for (c, title) in titles.enumerated() {
            figure[0, c].title = title
            for (k, m) in momenta.enumerated() {
                var (x, y) = curve(steps: 20_000, momentum: m, seed: UInt64(10 * c + k))
                if c == 1 { y = y.map { $0 * 4 - 0.02 } }
                if c == 2 { y = y.map { 0.9 - $0 * 5 } }
                let color = Palette.categorical(k)
                if c == 0 {
                    try figure[0, c].band(x: x, lower: y.map { $0 - 0.003 }, upper: y.map { $0 + 0.003 }, color: color, opacity: 0.2)
                }
                try figure[0, c].line(x: x, y: y, label: "m=\(m) | \(String(format: "%.1f", 80 + 2 * Double(k)))", color: color)
            }
            figure[0, c].xLabel = "iteration"
            figure[0, c].xTickFormat = .iterations
            figure[0, c].verticalMarker(x: 16, label: "queue filled")
            figure[0, c].verticalMarker(x: 12_000, label: "LR drop")
            if c > 0 { figure[0, c].legendPosition = .hidden }
        }
        figure[0, 0].yLabel = "score statistic"
        return figure
    }

    static func variousM() throws -> Figure {
        var figure = Figure(size: .column, height: 200)
        let ms = [0.5, 0.9, 0.99, 0.999, 0.9999]
        let ribbons = ms.enumerated().map { k, m -> Ribbon in
            let (x, y) = curve(steps: 20_000, momentum: m, seed: UInt64(100 + k), stride: 100)
            return Ribbon(depth: m, label: "\(m)", x: x, y: y)
        }
        try figure[0, 0].ribbons3D(ribbons, depthLabel: "momentum m")
        figure[0, 0].xLabel = "iteration"
        figure[0, 0].yLabel = "neg variance"
        figure[0, 0].xTickFormat = .iterations
        return figure
    }

    static func histogramRows(bins: Int, rows: Int, center: (Int) -> Double, width: Double) -> (edges: [Double], rows: [[Double]]) {
        let edges = (0...bins).map { -1 + 2 * Double($0) / Double(bins) }
        let data = (0..<rows).map { r -> [Double] in
            (0..<bins).map { b in
                let x = (edges[b] + edges[b + 1]) / 2
                return exp(-0.5 * pow((x - center(r)) / width, 2)) / (width * 2.5066)
            }
        }
        return (edges, data)
    }

    static func heatmap() throws -> Figure {
        var figure = Figure(size: .text, rows: 1, columns: 2, height: 170)
        figure.sharedY = .row
        for (c, name) in ["pos", "neg"].enumerated() {
            let (edges, columns) = histogramRows(bins: 100, rows: 200,
                                                 center: { c == 0 ? 0.2 + 0.6 * (1 - exp(-Double($0) / 40)) : 0.05 * sin(Double($0) / 30) },
                                                 width: c == 0 ? 0.12 : 0.08)
            let xEdges = (0...200).map { Double($0) * 100 }
            try figure[0, c].heatmap(xEdges: xEdges, yEdges: edges, values: columns, colorScale: .log,
                                     valueRange: 1e-2...6)
            figure[0, c].colorBar(label: "density")
            figure[0, c].title = name
            figure[0, c].xLabel = "iteration"
            figure[0, c].xTickFormat = .iterations
            figure[0, c].grid = .none
        }
        figure[0, 0].yLabel = "cosine score"
        return figure
    }

    static func ridgeline() throws -> Figure {
        var figure = Figure(size: .column, height: 210)
        let pos = histogramRows(bins: 80, rows: 5, center: { 0.3 + 0.12 * Double($0) }, width: 0.1)
        let neg = histogramRows(bins: 80, rows: 5, center: { 0.1 - 0.02 * Double($0) }, width: 0.1)
        try figure[0, 0].ridgeline([RidgelineSeries(label: "pos", edges: pos.edges, rows: pos.rows),
                                    RidgelineSeries(label: "neg", edges: neg.edges, rows: neg.rows)],
                                   rowLabels: (1...5).map { "epoch \($0 * 20)" })
        figure[0, 0].xLabel = "cosine score"
        return figure
    }

    static func histogramsAndBars() throws -> Figure {
        var figure = Figure(size: .text, rows: 1, columns: 2, height: 160)
        let pos = histogramRows(bins: 60, rows: 1, center: { _ in 0.55 }, width: 0.15)
        let neg = histogramRows(bins: 60, rows: 1, center: { _ in 0.0 }, width: 0.1)
        try figure[0, 0].histogram(edges: neg.edges, counts: neg.rows[0], style: .filled, label: "neg")
        try figure[0, 0].histogram(edges: pos.edges, counts: pos.rows[0], style: .filled, label: "pos")
        try figure[0, 0].histogram(edges: pos.edges, counts: pos.rows[0].map { $0 * 0.8 }, style: .step, label: "pos after FT")
        figure[0, 0].xLabel = "cosine score"
        figure[0, 0].yLabel = "density"
        let methods = ["baseline", "+ extrapolation", "+ interpolation", "both"]
        try figure[0, 1].bars(x: [0, 1, 2, 3].map { $0 - 0.2 }, heights: [80.1, 81.3, 81.0, 82.2], errors: .symmetric([0.4, 0.3, 0.5, 0.3]),
                              width: 0.38, label: "kNN top-1")
        try figure[0, 1].bars(x: [0, 1, 2, 3].map { $0 + 0.2 }, heights: [84.0, 84.9, 84.6, 85.7], errors: .symmetric([0.3, 0.4, 0.3, 0.2]),
                              width: 0.38, label: "linear probe")
        try figure[0, 1].setXTicks([0, 1, 2, 3], labels: methods)
        figure[0, 1].yLimits = 75...88
        figure[0, 1].yLabel = "accuracy (%)"
        figure[0, 1].grid = .horizontal
        return figure
    }

    static func training() throws -> Figure {
        var figure = Figure(size: .column, rows: 2, columns: 1, height: 260)
        figure.sharedX = .column
        var rng = TestRandom(seed: 7)
        let steps = 200_000
        let x = (0..<steps).map(Double.init)
        // Long noisy loss with rare spikes: the envelope must keep them.
        let loss = x.map { s -> Double in
            let base = 8.3 * exp(-s / 40_000) + 1.2
            return base * (1 + 0.05 * rng.normal()) + (Int(s) % 37_000 == 36_999 ? 6 : 0)
        }
        try figure[0, 0].line(x: x, y: loss, label: "loss")
        figure[0, 0].yScale = .log
        figure[0, 0].yLabel = "InfoNCE loss"
        figure[0, 0].verticalMarker(x: 100_000, label: "FT start")
        let epochs = (1...20).map { Double($0) * 10_000 }
        try figure[1, 0].scatter(x: epochs, y: epochs.map { 60 + 25 * (1 - exp(-$0 / 50_000)) }, label: "kNN top-1")
        try figure[1, 0].line(x: epochs, y: epochs.map { 60 + 25 * (1 - exp(-$0 / 50_000)) }, color: Palette.categorical(0), width: 0.6, dash: .dotted)
        figure[1, 0].xLabel = "iteration"
        figure[1, 0].xTickFormat = .iterations
        figure[1, 0].yLabel = "accuracy (%)"
        return figure
    }

    /// A 2×2 grid with shared axes, a figure title, a log x axis, tiny values and an outside legend.
    static func grid() throws -> Figure {
        var figure = Figure(size: .text, rows: 2, columns: 2, height: 300)
        figure.title = "FT ablation: queue size and temperature"
        figure.sharedX = .all
        figure.sharedY = .row
        let sizes = [256.0, 1024, 4096, 16384, 65536]
        for r in 0..<2 {
            for c in 0..<2 {
                for (k, t) in [0.07, 0.2, 0.5].enumerated() {
                    let y = sizes.map { r == 0 ? 80 + Double(k) * 2 + log2($0) * 0.5 + Double(c) : 0.0002 * Double(k + 1) / log2($0) }
                    try figure[r, c].line(x: sizes, y: y, label: "τ = \(t)", color: Palette.categorical(k), dash: k == 2 ? .dashed : .solid)
                    try figure[r, c].scatter(x: sizes, y: y, color: Palette.categorical(k), marker: [.circle, .square, .triangle][k])
                }
                figure[r, c].xScale = .log
                figure[r, c].title = ["baseline", "+ FT"][c]
                if r == 1 { figure[r, c].xLabel = "queue size K" }
                figure[r, c].legendPosition = c == 1 && r == 0 ? .outsideRight : .hidden
            }
        }
        figure[0, 0].yLabel = "kNN top-1 (%)"
        figure[1, 0].yLabel = "neg variance"
        return figure
    }

    static func all() throws -> [(name: String, figure: Figure)] {
        [("curves", try curves()), ("various-m", try variousM()), ("heatmap", try heatmap()),
         ("ridgeline", try ridgeline()), ("histograms-bars", try histogramsAndBars()), ("training", try training()),
         ("grid", try grid())]
    }
}
