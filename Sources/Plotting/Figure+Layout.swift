// Figure layout: shared limits, ticks that fit their labels, and margins computed from the text and boxes
// that must fit around each plot, aligned per grid row and column so panels line up. Iterates because tick
// density depends on the plot size and margins depend on the tick labels.
// It deliberately gives every panel of a grid the same size.

import Foundation

/// The placed panels of a figure.
public struct FigureLayout: Sendable {
    public var width: Double
    public var height: Double
    /// Row by row, like `Figure.allAxes`.
    public var axes: [AxesLayout]
}

extension Figure {
    /// Limits after sharing: each group takes the union of its members' limits.
    func sharedLimits() -> [(x: (Double, Double), y: (Double, Double))] {
        var limits = panels.map { $0.resolvedLimits() }
        func group(_ sharing: AxisSharing, _ index: Int) -> Int? {
            switch sharing {
            case .none: return nil
            case .all: return 0
            case .row: return index / columns
            case .column: return index % columns
            }
        }
        for axisIsX in [true, false] {
            let sharing = axisIsX ? sharedX : sharedY
            var unions: [Int: (Double, Double)] = [:]
            for i in panels.indices {
                guard let g = group(sharing, i) else { continue }
                let l = axisIsX ? limits[i].x : limits[i].y
                unions[g] = unions[g].map { (Swift.min($0.0, l.0), Swift.max($0.1, l.1)) } ?? l
            }
            for i in panels.indices {
                guard let g = group(sharing, i), let u = unions[g] else { continue }
                if axisIsX { limits[i].x = u } else { limits[i].y = u }
            }
        }
        return limits
    }

    /// Lays the panels out using `renderer`'s text measurements.
    public func layout(measuringWith renderer: some Renderer) -> FigureLayout {
        let limits = sharedLimits()
        let pad = style.figurePadding
        var top0 = pad
        if let title {
            top0 += renderer.textExtents(title, font: style.figureTitleFont).height + style.padding * 2
        }
        func showsXTickLabels(_ i: Int) -> Bool {
            let row = i / columns
            switch sharedX { case .all, .column: return row == rows - 1; default: return true }
        }
        func showsYTickLabels(_ i: Int) -> Bool {
            let column = i % columns
            switch sharedY { case .all, .row: return column == 0; default: return true }
        }
        // Margins per panel: (left, right, top, bottom).
        var margins = Array(repeating: (28.0, 6.0, 6.0, 22.0), count: panels.count)
        var result: [AxesLayout] = []
        for pass in 0..<10 {
            let rects = frames(margins: margins, top: top0)
            var needed = margins
            result = []
            for (i, axes) in panels.enumerated() {
                let plot = rects[i]
                let (xMap, yMap) = AxesPainter.maps(for: axes, plot: plot, limits: limits[i])
                let xLength = abs(xMap.end - xMap.start), yLength = abs(yMap.end - yMap.start)
                let placed = AxesLayout(
                    plot: plot, x: xMap, y: yMap,
                    xTicks: TickFitting.ticks(custom: axes.customXTicks, scale: axes.xScale, lower: limits[i].x.0,
                                              upper: limits[i].x.1, length: xLength, spacing: style.xTickSpacing,
                                              format: axes.xTickFormat, horizontal: true, font: style.tickFont, renderer: renderer),
                    yTicks: TickFitting.ticks(custom: axes.customYTicks, scale: axes.yScale, lower: limits[i].y.0,
                                              upper: limits[i].y.1, length: yLength, spacing: style.yTickSpacing,
                                              format: axes.yTickFormat, horizontal: false, font: style.tickFont, renderer: renderer),
                    showXTickLabels: showsXTickLabels(i), showYTickLabels: showsYTickLabels(i))
                result.append(placed)
                let o = AxesPainter(axes: axes, layout: placed, style: style, renderer: renderer).overhang()
                needed[i] = (o.left + 1, o.right + 1, o.top + 1, o.bottom + 1)
            }
            let fits = zip(needed, margins).allSatisfy { n, m in
                n.0 <= m.0 + 0.01 && n.1 <= m.1 + 0.01 && n.2 <= m.2 + 0.01 && n.3 <= m.3 + 0.01
            }
            let tight = zip(needed, margins).allSatisfy { n, m in
                m.0 - n.0 < 1 && m.1 - n.1 < 1 && m.2 - n.2 < 1 && m.3 - n.3 < 1
            }
            if fits && (tight || pass >= 4) { break }
            // Grow to what is needed; shrink only in the first passes, so the loop settles.
            margins = zip(needed, margins).map { n, m in
                pass < 3 ? n : (Swift.max(n.0, m.0), Swift.max(n.1, m.1), Swift.max(n.2, m.2), Swift.max(n.3, m.3))
            }
        }
        return FigureLayout(width: width, height: height, axes: result)
    }

    /// Plot rectangles for per-panel margins: margins are aligned per column (left, right) and row (top, bottom).
    func frames(margins: [(Double, Double, Double, Double)], top: Double) -> [Rect] {
        let pad = style.figurePadding, gap = style.axesSpacing
        var left = Array(repeating: 0.0, count: columns), right = left
        var upper = Array(repeating: 0.0, count: rows), lower = upper
        for (i, m) in margins.enumerated() {
            let r = i / columns, c = i % columns
            left[c] = Swift.max(left[c], m.0); right[c] = Swift.max(right[c], m.1)
            upper[r] = Swift.max(upper[r], m.2); lower[r] = Swift.max(lower[r], m.3)
        }
        let plotWidth = Swift.max(10, (width - 2 * pad - left.reduce(0, +) - right.reduce(0, +) - Double(columns - 1) * gap) / Double(columns))
        let plotHeight = Swift.max(10, (height - top - pad - upper.reduce(0, +) - lower.reduce(0, +) - Double(rows - 1) * gap) / Double(rows))
        var rects: [Rect] = []
        var y = top
        for r in 0..<rows {
            y += upper[r]
            var x = pad
            for c in 0..<columns {
                x += left[c]
                rects.append(Rect(x: x, y: y, width: plotWidth, height: plotHeight))
                x += plotWidth + right[c] + gap
            }
            y += plotHeight + lower[r] + gap
        }
        return rects
    }
}
