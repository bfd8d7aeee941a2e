// Legend: measuring a legend box, choosing where it hides the fewest data points, and drawing it.
// It deliberately places legends inside the plot (or to its right when asked), never over other panels.

import Foundation

struct LegendBox {
    let entries: [LegendEntry]
    let columns: Int
    let font: Font
    let columnWidths: [Double]
    let rowHeight: Double
    let size: (width: Double, height: Double)

    static let symbolWidth = 13.0
    static let inset = 3.0       // frame to content
    static let gap = 3.0         // symbol to text
    static let columnGap = 6.0

    init?(entries: [LegendEntry], columns: Int, style: Style, renderer: any Renderer) {
        guard !entries.isEmpty else { return nil }
        self.entries = entries
        self.columns = Swift.max(1, Swift.min(columns, entries.count))
        font = style.legendFont
        let rows = (entries.count + self.columns - 1) / self.columns
        var widths = Array(repeating: 0.0, count: self.columns)
        for (i, e) in entries.enumerated() {
            let ext = renderer.textExtents(e.label, font: font)
            widths[i / rows] = Swift.max(widths[i / rows], Self.symbolWidth + Self.gap + ext.width)
        }
        columnWidths = widths
        rowHeight = font.size * 1.4
        let width = widths.reduce(0, +) + Double(self.columns - 1) * Self.columnGap + 2 * Self.inset
        size = (width, Double(rows) * rowHeight + 2 * Self.inset)
    }

    var rows: Int { (entries.count + columns - 1) / columns }

    /// The box for a position inside (or right of) `plot`; nil for `.hidden` / `.auto`.
    func rect(_ position: LegendPosition, plot: Rect, margin: Double = 3) -> Rect? {
        let w = size.width, h = size.height
        let left = plot.minX + margin, right = plot.maxX - margin - w, center = plot.midX - w / 2
        let top = plot.minY + margin, bottom = plot.maxY - margin - h, middle = plot.midY - h / 2
        switch position {
        case .upperRight: return Rect(x: right, y: top, width: w, height: h)
        case .upperLeft: return Rect(x: left, y: top, width: w, height: h)
        case .lowerLeft: return Rect(x: left, y: bottom, width: w, height: h)
        case .lowerRight: return Rect(x: right, y: bottom, width: w, height: h)
        case .upperCenter: return Rect(x: center, y: top, width: w, height: h)
        case .lowerCenter: return Rect(x: center, y: bottom, width: w, height: h)
        case .centerLeft: return Rect(x: left, y: middle, width: w, height: h)
        case .centerRight: return Rect(x: right, y: middle, width: w, height: h)
        case .outsideRight: return Rect(x: plot.maxX + 6, y: plot.minY, width: w, height: h)
        case .auto, .hidden: return nil
        }
    }

    /// The candidate with the fewest covered points inside it; ties go to the earlier (more usual) position.
    static let candidates: [LegendPosition] = [.upperRight, .upperLeft, .lowerRight, .lowerLeft,
                                               .centerRight, .centerLeft, .upperCenter, .lowerCenter]

    func bestRect(plot: Rect, covered: [Point]) -> (LegendPosition, Rect) {
        var best: (position: LegendPosition, rect: Rect, hits: Int)?
        for position in Self.candidates {
            guard let r = rect(position, plot: plot) else { continue }
            let grown = r.insetBy(-1.5)
            let hits = covered.reduce(0) { $0 + (grown.contains($1) ? 1 : 0) }
            if hits < (best?.hits ?? Int.max) { best = (position, r, hits) }
            if hits == 0 { break }
        }
        let fallback = Rect(x: plot.maxX - 3 - size.width, y: plot.minY + 3, width: size.width, height: size.height)
        return best.map { ($0.position, $0.rect) } ?? (.upperRight, fallback)
    }

    func draw(in box: Rect, renderer: any Renderer, style: Style) {
        var frame = Path(); frame.addRect(box)
        renderer.fill(frame, color: style.background.withAlpha(0.88))
        renderer.stroke(frame, style: StrokeStyle(color: Color(red8: 0xc8, green8: 0xc8, blue8: 0xc8), width: 0.4, roundJoins: false))
        var x = box.minX + Self.inset
        for column in 0..<columns {
            for row in 0..<rows {
                let index = column * rows + row
                guard index < entries.count else { break }
                let entry = entries[index]
                let cy = box.minY + Self.inset + (Double(row) + 0.5) * rowHeight
                drawSymbol(entry.symbol, x: x, cy: cy, renderer: renderer)
                renderer.text(entry.label, at: Point(x + Self.symbolWidth + Self.gap, cy), font: font,
                              color: style.textColor, anchor: TextAnchor(.left, .center), rotation: 0)
            }
            x += columnWidths[column] + Self.columnGap
        }
    }

    private func drawSymbol(_ symbol: LegendSymbol, x: Double, cy: Double, renderer: any Renderer) {
        switch symbol {
        case let .line(color, width, dash):
            renderer.stroke(.segment(Point(x, cy), Point(x + Self.symbolWidth, cy)),
                            style: StrokeStyle(color: color, width: width, dash: dash, roundJoins: false))
        case let .marker(color, shape, size):
            var p = Path()
            ScatterArtist.addMarker(&p, shape, at: Point(x + Self.symbolWidth / 2, cy), size: Swift.max(size, 3.5))
            renderer.fill(p, color: color)
        case let .patch(fill, edge):
            let side = font.size * 0.8
            let r = Rect(x: x + (Self.symbolWidth - side * 1.5) / 2, y: cy - side / 2, width: side * 1.5, height: side)
            renderer.fill(.rect(r), color: fill)
            if let edge { renderer.stroke(.rect(r), style: StrokeStyle(color: edge, width: 0.6, roundJoins: false)) }
        }
    }
}
