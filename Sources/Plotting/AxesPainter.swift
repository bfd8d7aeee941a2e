// AxesPainter: everything drawn around and inside one placed Axes: ticks chosen to fit their labels, grid,
// frame, tick labels, axis labels, title, vertical markers, legend, colour bar, and the 3-D box of a ribbon
// panel. The same code yields the text boxes the layout measures, so layout and drawing cannot disagree.
// It deliberately does not choose the plot rectangle (Figure+Layout.swift does).

import Foundation

/// A text with its placement, measured or drawn.
struct PlacedText {
    var string: String
    var at: Point
    var font: Font
    var anchor: TextAnchor
    var rotation: Double = 0
    var color: Color? = nil
}

/// Tick choice that keeps labels apart.
enum TickFitting {
    /// Ticks for one axis of `length` points; labels must not collide (x: 4 pt gaps, y: half a line).
    static func ticks(custom: [Tick]?, scale: Scale, lower: Double, upper: Double, length: Double,
                      spacing: Double, format: TickFormat, horizontal: Bool, font: Font,
                      renderer: any Renderer) -> AxisTicks {
        if let custom {
            let lo = Swift.min(lower, upper), hi = Swift.max(lower, upper)
            let span = hi - lo
            return AxisTicks(ticks: custom.filter { $0.value >= lo - 1e-9 * span && $0.value <= hi + 1e-9 * span })
        }
        var target = Swift.max(2, Int(length / spacing) + 1)
        var step = TickLocator.niceStep(span: upper - lower, targetCount: target)
        for _ in 0..<12 {
            let ticks = scale == .log
                ? TickLocator.log(lower: lower, upper: upper, targetCount: target, format: format)
                : TickLocator.linear(lower: lower, upper: upper, step: step, format: format)
            if fits(ticks, scale: scale, lower: lower, upper: upper, length: length, horizontal: horizontal,
                    font: font, renderer: renderer) || target <= 1 {
                return ticks
            }
            target -= 1
            step = TickLocator.coarser(step)
        }
        return AxisTicks(ticks: [])
    }

    static func fits(_ ticks: AxisTicks, scale: Scale, lower: Double, upper: Double, length: Double,
                     horizontal: Bool, font: Font, renderer: any Renderer) -> Bool {
        let map = AxisMap(scale: scale, lower: lower, upper: upper, start: 0, end: length)
        let labelled = ticks.ticks.filter { !$0.label.isEmpty }
        guard labelled.count > 1 else { return true }
        for i in 1..<labelled.count {
            let a = renderer.textExtents(labelled[i - 1].label, font: font)
            let b = renderer.textExtents(labelled[i].label, font: font)
            let distance = abs(map(labelled[i].value) - map(labelled[i - 1].value))
            let needed = horizontal ? (a.width + b.width) / 2 + 4 : (a.capHeight + b.capHeight) / 2 + font.size * 0.6
            if distance < needed { return false }
        }
        return true
    }
}

/// Layout facts of one axes, computed by the figure layout.
public struct AxesLayout: Sendable {
    /// The plot area (for a 3-D panel: the whole oblique box).
    public var plot: Rect
    /// Data-to-page maps (for a 3-D panel: along the front edges).
    public var x: AxisMap
    public var y: AxisMap
    /// Ticks chosen so their labels fit (automatic, or the panel's fixed ones).
    public var xTicks: AxisTicks
    public var yTicks: AxisTicks
    /// False on inner panels of shared axes.
    public var showXTickLabels: Bool
    public var showYTickLabels: Bool

    /// The page outline of the data area, clockwise from the top left: the plot rectangle, or for a 3-D panel
    /// the hexagon of its oblique box (the corners of `plot` outside the box hold depth labels).
    public var dataOutline: [Point] {
        let depthX = plot.maxX - x.end, depthY = y.end - plot.minY   // zero for 2-D panels
        if depthX <= 0 && depthY <= 0 {
            return [Point(plot.minX, plot.minY), Point(plot.maxX, plot.minY), Point(plot.maxX, plot.maxY), Point(plot.minX, plot.maxY)]
        }
        return [Point(plot.minX + depthX, plot.minY), Point(plot.maxX, plot.minY), Point(plot.maxX, plot.maxY - depthY),
                Point(plot.maxX - depthX, plot.maxY), Point(plot.minX, plot.maxY), Point(plot.minX, plot.minY + depthY)]
    }
}

struct AxesPainter {
    let axes: Axes
    let layout: AxesLayout
    let style: Style
    let renderer: any Renderer

    var plot: Rect { layout.plot }
    var projection: ObliqueProjection? {
        guard axes.ribbons != nil else { return nil }
        return ObliqueProjection(plot: plot, xScale: axes.xScale, xLimits: (layout.x.lower, layout.x.upper),
                                 yScale: axes.yScale, yLimits: (layout.y.lower, layout.y.upper))
    }

    /// Builds the page maps for a plot rectangle (3-D panels map along their front edges).
    static func maps(for axes: Axes, plot: Rect, limits: (x: (Double, Double), y: (Double, Double))) -> (AxisMap, AxisMap) {
        if axes.ribbons != nil {
            let p = ObliqueProjection(plot: plot, xScale: axes.xScale, xLimits: limits.x, yScale: axes.yScale, yLimits: limits.y)
            return (p.x, p.y)
        }
        return (AxisMap(scale: axes.xScale, lower: limits.x.0, upper: limits.x.1, start: plot.minX, end: plot.maxX),
                AxisMap(scale: axes.yScale, lower: limits.y.0, upper: limits.y.1, start: plot.maxY, end: plot.minY))
    }

    // MARK: decorations (shared by layout and drawing)

    private func labelWithFactor(_ label: String?, _ factor: String?) -> String? {
        switch (label, factor) {
        case let (l?, f?): return "\(l) (\(f))"
        case let (l?, nil): return l
        case let (nil, f?): return f
        default: return nil
        }
    }

    /// Every text outside the plot area, placed.
    func decorationTexts() -> [PlacedText] {
        var texts: [PlacedText] = []
        let tickFont = style.tickFont
        let outer = style.tickLength + style.padding
        let xMap = layout.x, yMap = layout.y
        // Tick labels.
        var bottomEdge = plot.maxY + style.tickLength
        if layout.showXTickLabels {
            // Category labels that would collide are slanted by 30° and end at their tick.
            let slanted = axes.customXTicks != nil && !TickFitting.fits(
                layout.xTicks, scale: xMap.scale, lower: xMap.lower, upper: xMap.upper, length: abs(xMap.end - xMap.start),
                horizontal: true, font: tickFont, renderer: renderer)
            for t in layout.xTicks.ticks where !t.label.isEmpty {
                let text = PlacedText(string: t.label, at: Point(xMap(t.value) + (slanted ? 2 : 0), plot.maxY + outer), font: tickFont,
                                      anchor: slanted ? TextAnchor(.right, .top) : TextAnchor(.center, .top),
                                      rotation: slanted ? .pi / 6 : 0)
                texts.append(text)
                bottomEdge = Swift.max(bottomEdge, box(text).maxY)
            }
        }
        var leftEdge = plot.minX - style.tickLength
        if layout.showYTickLabels {
            for t in layout.yTicks.ticks where !t.label.isEmpty {
                let text = PlacedText(string: t.label, at: Point(plot.minX - outer, yMap(t.value)), font: tickFont,
                                      anchor: TextAnchor(.right, .center))
                texts.append(text)
                leftEdge = Swift.min(leftEdge, box(text).minX)
            }
        }
        // Axis labels (with a shared ×10^k factor when the ticks use one).
        if let label = labelWithFactor(axes.xLabel, layout.showXTickLabels ? layout.xTicks.factor : nil) {
            texts.append(PlacedText(string: label, at: Point(xMap.start + (xMap.end - xMap.start) / 2, bottomEdge + style.padding),
                                    font: style.labelFont, anchor: TextAnchor(.center, .top)))
        }
        if let label = labelWithFactor(axes.yLabel, layout.showYTickLabels ? layout.yTicks.factor : nil) {
            texts.append(PlacedText(string: label, at: Point(leftEdge - style.padding, yMap.start + (yMap.end - yMap.start) / 2),
                                    font: style.labelFont, anchor: TextAnchor(.center, .bottom), rotation: .pi / 2))
        }
        let markers = markerLabels()
        texts += markers
        if let title = axes.title {
            let top = markers.map { box($0).minY }.min() ?? plot.minY
            texts.append(PlacedText(string: title, at: Point(plot.midX, Swift.min(top, plot.minY) - style.padding - 1),
                                    font: style.titleFont, anchor: TextAnchor(.center, .bottom)))
        }
        texts += colorBarTexts()
        texts += depthAxisTexts()
        return texts
    }

    func box(_ t: PlacedText) -> Rect {
        renderer.textBox(t.string, at: t.at, font: t.font, anchor: t.anchor, rotation: t.rotation)
    }

    /// Boxes of non-text decorations outside the plot: an outside legend, the colour bar.
    func decorationBoxes() -> [Rect] {
        var boxes: [Rect] = []
        if axes.legendPosition == .outsideRight, let legend = legendBox(), let r = legend.rect(.outsideRight, plot: plot) {
            boxes.append(r)
        }
        if let bar = colorBarRect() { boxes.append(bar) }
        return boxes
    }

    /// How far decorations reach beyond the plot on each side (≥ 0).
    func overhang() -> (left: Double, right: Double, top: Double, bottom: Double) {
        if axes.isHidden { return (0, 0, 0, 0) }
        var left = 0.0, right = 0.0, top = 0.0, bottom = 0.0
        let boxes = decorationTexts().map(box) + decorationBoxes()
            + [plot.insetBy(-style.tickLength)]   // outward ticks
        for b in boxes {
            left = Swift.max(left, plot.minX - b.minX); right = Swift.max(right, b.maxX - plot.maxX)
            top = Swift.max(top, plot.minY - b.minY); bottom = Swift.max(bottom, b.maxY - plot.maxY)
        }
        return (left, right, top, bottom)
    }

    // MARK: legend and markers

    func legendBox() -> LegendBox? {
        guard axes.legendPosition != .hidden else { return nil }
        return LegendBox(entries: axes.legendEntries, columns: axes.legendColumns, style: style, renderer: renderer)
    }

    var context: DrawContext { DrawContext(renderer: renderer, x: layout.x, y: layout.y, plot: plot, style: style) }

    /// Marker labels above the plot, centred on their line (kept inside the plot's width near the ends), in
    /// stacked rows when neighbours would collide; they never cover data.
    func markerLabels() -> [PlacedText] {
        var placed: [PlacedText] = []
        var rows: [[Rect]] = []
        for m in axes.markers.sorted(by: { $0.x < $1.x }) {
            guard let label = m.label, axes.xScale.accepts(m.x) else { continue }
            let x = layout.x(m.x)
            guard x >= plot.minX - 0.5, x <= plot.maxX + 0.5 else { continue }
            let width = renderer.textExtents(label, font: style.annotationFont).width
            var anchor = TextAnchor(.center, .bottom)
            if x - width / 2 < plot.minX - style.tickLength { anchor.horizontal = .left }
            if x + width / 2 > plot.maxX { anchor.horizontal = .right }
            var row = 0
            while true {
                var text = PlacedText(string: label, at: Point(x, plot.minY - 1.5), font: style.annotationFont,
                                      anchor: anchor, color: m.color.darkened(0.35))
                let height = renderer.textExtents(label, font: style.annotationFont).height + 1
                text.at.y -= Double(row) * height
                let b = box(text).insetBy(-1.5)
                if row == rows.count { rows.append([]) }
                if !rows[row].contains(where: { $0.intersects(b) }) {
                    rows[row].append(b)
                    placed.append(text)
                    break
                }
                row += 1
            }
        }
        return placed
    }

    // MARK: colour bar

    func colorBarRect() -> Rect? {
        guard axes.colorBarLabel != nil, axes.lastHeatmap != nil else { return nil }
        var left = plot.maxX + 6
        if axes.legendPosition == .outsideRight, let legend = legendBox() { left += legend.size.width + 6 }
        return Rect(x: left, y: plot.minY, width: 7, height: plot.height)
    }

    func colorBarTicks() -> (AxisMap, AxisTicks)? {
        guard let bar = colorBarRect(), let heatmap = axes.lastHeatmap else { return nil }
        let n = heatmap.normalization
        let scale: Scale = n.scale == .log ? .log : .linear
        let lower = n.lower, upper = n.upper > n.lower ? n.upper : n.lower + (scale == .log ? n.lower * 9 : 1)
        let map = AxisMap(scale: scale, lower: lower, upper: upper, start: bar.maxY, end: bar.minY)
        let ticks = TickFitting.ticks(custom: nil, scale: scale, lower: lower, upper: upper, length: bar.height,
                                      spacing: style.yTickSpacing, format: .automatic, horizontal: false,
                                      font: style.tickFont, renderer: renderer)
        return (map, ticks)
    }

    func colorBarTexts() -> [PlacedText] {
        guard let bar = colorBarRect(), let (map, ticks) = colorBarTicks() else { return [] }
        var texts: [PlacedText] = []
        var right = bar.maxX + style.tickLength
        for t in ticks.ticks where !t.label.isEmpty {
            let text = PlacedText(string: t.label, at: Point(bar.maxX + style.tickLength + style.padding, map(t.value)),
                                  font: style.tickFont, anchor: TextAnchor(.left, .center))
            texts.append(text)
            right = Swift.max(right, box(text).maxX)
        }
        if let label = labelWithFactor(axes.colorBarLabel ?? nil, ticks.factor) {
            texts.append(PlacedText(string: label, at: Point(right + style.padding, bar.midY), font: style.labelFont,
                                    anchor: TextAnchor(.center, .top), rotation: .pi / 2))
        }
        return texts
    }

    // MARK: 3-D depth axis

    func depthAxisTexts() -> [PlacedText] {
        guard let ribbons = axes.ribbons, let p = projection else { return [] }
        var texts: [PlacedText] = []
        var reach = 0.0
        let angle = atan2(p.dy, p.dx)
        let normal = (x: sin(angle), y: cos(angle))   // page direction away from the box, right and down
        for k in ribbons.ribbons.indices {
            let at = p.point(p.x.upper, p.y.lower, ribbons.center(k))
            let text = PlacedText(string: ribbons.depthTickLabel(k), at: Point(at.x + style.tickLength + style.padding, at.y),
                                  font: style.tickFont, anchor: TextAnchor(.left, .center))
            texts.append(text)
            let b = box(text)
            reach = Swift.max(reach, (b.maxX - at.x) * normal.x + (b.maxY - at.y) * normal.y)
        }
        if let label = ribbons.depthLabel {
            let start = p.point(p.x.upper, p.y.lower, 0), end = p.point(p.x.upper, p.y.lower, 1)
            let mid = Point((start.x + end.x) / 2 + normal.x * (reach + style.padding),
                            (start.y + end.y) / 2 + normal.y * (reach + style.padding))
            texts.append(PlacedText(string: label, at: mid, font: style.labelFont, anchor: TextAnchor(.center, .top),
                                    rotation: angle))
        }
        return texts
    }

    // MARK: drawing

    func draw() {
        if axes.isHidden { return }
        if let p = projection, let ribbons = axes.ribbons {
            draw3D(p, ribbons)
        } else {
            draw2D()
        }
        for t in decorationTexts() {
            renderer.text(t.string, at: t.at, font: t.font, color: t.color ?? style.textColor, anchor: t.anchor, rotation: t.rotation)
        }
        drawColorBar()
    }

    private func tickStyle(_ major: Bool) -> StrokeStyle {
        StrokeStyle(color: style.frameColor, width: major ? style.frameWidth : style.frameWidth * 0.8, roundJoins: false)
    }

    private func draw2D() {
        let xMap = layout.x, yMap = layout.y
        let gridStyle = StrokeStyle(color: style.gridColor, width: style.gridWidth, roundJoins: false)
        var grid = Path()
        if axes.grid == .both || axes.grid == .vertical {
            for t in layout.xTicks.major { grid.move(to: Point(xMap(t.value), plot.minY)); grid.line(to: Point(xMap(t.value), plot.maxY)) }
        }
        if axes.grid == .both || axes.grid == .horizontal {
            for t in layout.yTicks.major { grid.move(to: Point(plot.minX, yMap(t.value))); grid.line(to: Point(plot.maxX, yMap(t.value))) }
        }
        renderer.stroke(grid, style: gridStyle)

        renderer.pushClip(plot)
        let context = self.context
        for artist in axes.artists { artist.draw(context) }
        for m in axes.markers where axes.xScale.accepts(m.x) {
            let x = xMap(m.x)
            renderer.stroke(.segment(Point(x, plot.minY), Point(x, plot.maxY)),
                            style: StrokeStyle(color: m.color, width: 0.7, dash: m.dash, roundJoins: false))
        }
        renderer.popClip()
        for a in axes.annotations where axes.xScale.accepts(a.x) && axes.yScale.accepts(a.y) {
            renderer.text(a.text, at: Point(xMap(a.x), yMap(a.y)), font: style.tickFont, color: a.color ?? style.textColor,
                          anchor: a.anchor, rotation: 0)
        }

        // Frame and outward ticks.
        renderer.stroke(.rect(plot), style: StrokeStyle(color: style.frameColor, width: style.frameWidth, roundJoins: false))
        for major in [true, false] {
            var ticks = Path()
            let length = major ? style.tickLength : style.tickLength * 0.6
            for t in layout.xTicks.ticks where t.isMajor == major {
                ticks.move(to: Point(xMap(t.value), plot.maxY)); ticks.line(to: Point(xMap(t.value), plot.maxY + length))
            }
            for t in layout.yTicks.ticks where t.isMajor == major {
                ticks.move(to: Point(plot.minX, yMap(t.value))); ticks.line(to: Point(plot.minX - length, yMap(t.value)))
            }
            renderer.stroke(ticks, style: tickStyle(major))
        }

        if let legend = legendBox() {
            let rect: Rect?
            switch axes.legendPosition {
            case .auto:
                // Data, and marker lines (a legend may cross them, but only when nothing better exists).
                let obstacles = axes.artists.flatMap { $0.coveredPoints(context) }
                    + axes.markers.filter { axes.xScale.accepts($0.x) }.flatMap { m in
                        stride(from: plot.minY, through: plot.maxY, by: 4).map { Point(xMap(m.x), $0) }
                    }
                rect = legend.bestRect(plot: plot, covered: obstacles).1
            default: rect = legend.rect(axes.legendPosition, plot: plot)
            }
            if let rect { legend.draw(in: rect, renderer: renderer, style: style) }
        }
    }

    private func drawColorBar() {
        guard let bar = colorBarRect(), let heatmap = axes.lastHeatmap, let (map, ticks) = colorBarTicks() else { return }
        let steps = 128
        let pixels = (0..<steps).map { row -> Color in
            let value = map.value(atPosition: bar.minY + (Double(row) + 0.5) / Double(steps) * bar.height)
            return heatmap.colormap.color(at: heatmap.normalization.fraction(value) ?? 0)
        }
        renderer.image(RasterImage(width: 1, height: steps, pixels: pixels), in: bar)
        renderer.stroke(.rect(bar), style: StrokeStyle(color: style.frameColor, width: style.frameWidth * 0.8, roundJoins: false))
        var path = Path()
        for t in ticks.ticks {
            let length = t.isMajor ? style.tickLength : style.tickLength * 0.6
            path.move(to: Point(bar.maxX, map(t.value))); path.line(to: Point(bar.maxX + length, map(t.value)))
        }
        renderer.stroke(path, style: tickStyle(true))
    }

    private func draw3D(_ p: ObliqueProjection, _ ribbons: Ribbons3D) {
        let x0 = p.x.lower, x1 = p.x.upper, y0 = p.y.lower, y1 = p.y.upper
        // Walls: floor, back, left, lightly shaded, with grid lines.
        let wall = Color(red8: 0xf4, green8: 0xf4, blue8: 0xf4)
        func quad(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> Path {
            var q = Path(); q.addPolyline([a, b, c, d]); q.close(); return q
        }
        renderer.fill(quad(p.point(x0, y0, 0), p.point(x1, y0, 0), p.point(x1, y0, 1), p.point(x0, y0, 1)), color: wall)
        renderer.fill(quad(p.point(x0, y0, 1), p.point(x1, y0, 1), p.point(x1, y1, 1), p.point(x0, y1, 1)), color: wall)
        renderer.fill(quad(p.point(x0, y0, 0), p.point(x0, y0, 1), p.point(x0, y1, 1), p.point(x0, y1, 0)), color: wall.darkened(0.02))
        var grid = Path()
        for t in layout.yTicks.major {
            grid.addPolyline([p.point(x0, t.value, 0), p.point(x0, t.value, 1), p.point(x1, t.value, 1)])
        }
        for t in layout.xTicks.major {
            grid.addPolyline([p.point(t.value, y0, 0), p.point(t.value, y0, 1), p.point(t.value, y1, 1)])
        }
        for k in ribbons.ribbons.indices {
            grid.addPolyline([p.point(x0, y0, ribbons.center(k)), p.point(x1, y0, ribbons.center(k))])
        }
        renderer.stroke(grid, style: StrokeStyle(color: Color(red8: 0xd6, green8: 0xd6, blue8: 0xd6), width: style.gridWidth, roundJoins: false))
        // Back edges of the box.
        let edge = StrokeStyle(color: style.frameColor.withAlpha(0.5), width: style.frameWidth * 0.7, roundJoins: false)
        var back = Path()
        back.addPolyline([p.point(x0, y1, 0), p.point(x0, y1, 1), p.point(x1, y1, 1), p.point(x1, y0, 1)])
        back.addPolyline([p.point(x0, y0, 1), p.point(x0, y1, 1)])
        renderer.stroke(back, style: edge)

        renderer.pushClip(plot.insetBy(-1))
        ribbons.draw(renderer, p, style: style)
        renderer.popClip()

        // Front axes: x along the front floor edge, y up the front-left edge, depth along the right floor edge.
        let axis = StrokeStyle(color: style.frameColor, width: style.frameWidth, roundJoins: false)
        var front = Path()
        front.addPolyline([p.point(x0, y1, 0), p.point(x0, y0, 0), p.point(x1, y0, 0), p.point(x1, y0, 1)])
        renderer.stroke(front, style: axis)
        var ticks = Path()
        for t in layout.xTicks.major {
            let a = p.point(t.value, y0, 0); ticks.move(to: a); ticks.line(to: Point(a.x, a.y + style.tickLength))
        }
        for t in layout.yTicks.major {
            let a = p.point(x0, t.value, 0); ticks.move(to: a); ticks.line(to: Point(a.x - style.tickLength, a.y))
        }
        for k in ribbons.ribbons.indices {
            let a = p.point(x1, y0, ribbons.center(k)); ticks.move(to: a); ticks.line(to: Point(a.x + style.tickLength, a.y))
        }
        renderer.stroke(ticks, style: tickStyle(true))
    }
}
