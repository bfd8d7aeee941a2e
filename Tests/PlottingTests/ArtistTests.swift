// Recording-renderer assertions: what each artist draws (paths, fills, texts, rasters) and where.
import Foundation
import Testing
@testable import Plotting

/// Renders a one-panel figure and returns the recording plus the panel's layout.
func record(_ figure: Figure) -> (RecordingRenderer, FigureLayout) {
    let renderer = RecordingRenderer()
    figure.render(to: renderer)
    return (renderer, figure.layout(measuringWith: renderer))
}

/// Operations drawn inside the plot clip of the first panel.
func clipped(_ renderer: RecordingRenderer) -> [RecordingRenderer.Operation] {
    var inside = false
    var result: [RecordingRenderer.Operation] = []
    for op in renderer.operations {
        switch op {
        case .pushClip: inside = true
        case .popClip: inside = false
        default: if inside { result.append(op) }
        }
    }
    return result
}

@Test func lineDrawsOneStrokeThroughEveryPointInsideThePlot() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [0, 1, 2, 3], y: [0, 1, 0, 1], label: "a", color: .black, width: 2, dash: .dashed)
    let (r, layout) = record(figure)
    let strokes = clipped(r).compactMap { op -> (Path, StrokeStyle)? in if case let .stroke(p, s) = op { return (p, s) }; return nil }
    #expect(strokes.count == 1)
    let (path, style) = try #require(strokes.first)
    #expect(path.points.count == 4 && style.width == 2 && style.dash == .dashed && style.color == .black)
    let plot = layout.axes[0].plot
    #expect(path.points.allSatisfy { plot.contains($0) })
    // Auto limits pad the data, so the first point is right of the left edge; y=0 and y=1 are symmetric.
    #expect(path.points[0].x > plot.minX && path.points[3].x < plot.maxX)
    #expect(abs((path.points[0].y - plot.maxY) + (path.points[1].y - plot.minY)) < 1e-6)
    #expect(r.texts.contains { $0.string == "a" })   // legend entry
}

@Test func nanBreaksTheLineAndIsCounted() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [0, 1, 2, 3, 4, 5], y: [1, 2, .nan, 3, .infinity, 2])
    #expect(figure[0, 0].skippedPoints.nonFinite == 2)
    #expect(figure.skippedPoints.total == 2)
    let (r, _) = record(figure)
    let strokes = clipped(r).filter { if case .stroke = $0 { return true }; return false }
    let fills = clipped(r).filter { if case .fill = $0 { return true }; return false }
    #expect(strokes.count == 1)   // runs: [0, 1] is a line ...
    #expect(fills.count == 2)     // ... and the lone points 3 and 5 between gaps become dots
}

@Test func logAxesSkipAndCountNonPositiveValues() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [1, 2, 3, 4], y: [10, 0, -1, 100])
    figure[0, 0].yScale = .log
    #expect(figure[0, 0].skippedPoints == SkippedPoints(nonFinite: 0, outsideLogDomain: 2))
    let (_, layout) = record(figure)
    #expect(layout.axes[0].y.lower > 0)
}

@Test func scatterFillsOneMarkerPerPoint() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].scatter(x: [1, 2, 3], y: [3, 1, 2], label: "s", size: 4)
    let (r, _) = record(figure)
    let marks = clipped(r).compactMap { op -> Path? in if case let .fill(p, _) = op { return p }; return nil }
    #expect(marks.count == 1)
    #expect(marks[0].elements.filter { if case .circle = $0 { return true }; return false }.count == 3)
}

@Test func bandFillsOnePolygonAroundBothEdges() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].band(x: [0, 1, 2], lower: [0, 1, 0], upper: [1, 2, 1], color: .black, opacity: 0.5)
    let (r, _) = record(figure)
    let fills = clipped(r).compactMap { op -> (Path, Color)? in if case let .fill(p, c) = op { return (p, c) }; return nil }
    #expect(fills.count == 1)
    #expect(fills[0].0.points.count == 6 && fills[0].1.alpha == 0.5)
}

@Test func barsDrawRectanglesAndErrorWhiskers() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].bars(x: [0, 1, 2], heights: [3, 4, 5], errors: .symmetric([0.5, 0.5, 0.5]), label: "acc")
    try figure[0, 0].setXTicks([0, 1, 2], labels: ["a", "b", "c"])
    let (r, layout) = record(figure)
    let fills = clipped(r).compactMap { op -> Path? in if case let .fill(p, _) = op { return p }; return nil }
    #expect(fills.first?.elements.filter { $0 == .close }.count == 3)
    let whiskers = clipped(r).compactMap { op -> Path? in if case let .stroke(p, s) = op, s.width == 0.7 { return p }; return nil }
    #expect(whiskers.first?.points.count == 3 * 6)
    // Bars stand on 0: the y axis starts there (sticky), and the category labels are the x tick labels.
    #expect(layout.axes[0].y.lower == 0)
    #expect(["a", "b", "c"].allSatisfy { label in r.texts.contains { $0.string == label } })
}

@Test func histogramsDrawStepOutlinesAndFilledAreas() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].histogram(edges: [0, 1, 2, 3], counts: [1, 3, 2], style: .step, label: "step")
    try figure[0, 0].histogram(edges: [0, 1, 2, 3], counts: [2, 1, 1], style: .filled, label: "filled")
    let (r, layout) = record(figure)
    let ops = clipped(r)
    let strokes = ops.compactMap { op -> Path? in if case let .stroke(p, _) = op { return p }; return nil }
    let fills = ops.compactMap { op -> Path? in if case let .fill(p, _) = op { return p }; return nil }
    #expect(strokes.count == 2 && fills.count == 1)
    #expect(strokes[0].points.count == 2 * 3 + 2)   // down at both ends
    #expect(layout.axes[0].y.lower == 0 && layout.axes[0].x.lower == 0 && layout.axes[0].x.upper == 3)
}

@Test func uniformHeatmapIsOneRasterWithMapColours() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].heatmap(xEdges: [0, 1, 2], yEdges: [0, 1, 2, 3], values: [[0, 1, .nan], [2, 3, 4]])
    figure[0, 0].colorBar(label: "density")
    #expect(figure[0, 0].skippedPoints.nonFinite == 1)
    let (r, layout) = record(figure)
    let images = r.images
    #expect(images.count == 2)   // heat map + colour bar
    let raster = images[0].image
    #expect(raster.width == 2 && raster.height == 3)
    // Row 0 is the top (largest y): cell (x0, y2) is NaN → transparent; bottom-left (x0, y0) = 0 → darkest.
    #expect(raster.pixels[0].alpha == 0)
    #expect(raster.pixels[2 * 2 + 0] == Colormap.viridis.color(at: 0))
    #expect(raster.pixels[0 * 2 + 1] == Colormap.viridis.color(at: 1))
    #expect(images[0].rect.minX == layout.axes[0].plot.minX && images[0].rect.maxX == layout.axes[0].plot.maxX)
    #expect(r.texts.contains { $0.string == "density" })
    #expect(images[1].image.width == 1 && images[1].rect.minX > layout.axes[0].plot.maxX)
}

@Test func unevenHeatmapFallsBackToOneRectanglePerCell() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].heatmap(xEdges: [0, 1, 5], yEdges: [0, 1], values: [[1], [2]])
    let (r, _) = record(figure)
    #expect(r.images.isEmpty)
    #expect(clipped(r).filter { if case .fill = $0 { return true }; return false }.count == 2)
}

@Test func ridgelineDrawsEveryRowBackToFrontWithRowLabels() throws {
    var figure = Figure(size: .column)
    let edges = [0.0, 1, 2, 3]
    try figure[0, 0].ridgeline([RidgelineSeries(label: "pos", edges: edges, rows: [[1, 2, 1], [0, 3, 1]]),
                                RidgelineSeries(label: "neg", edges: edges, rows: [[2, 1, 0], [1, 1, 1]])],
                               rowLabels: ["epoch 1", "epoch 2"])
    let (r, layout) = record(figure)
    let fills = clipped(r).compactMap { op -> Path? in if case let .fill(p, _) = op { return p }; return nil }
    #expect(fills.count == 2 * 2 * 2)   // rows × series × (opaque + colour)
    // The first row drawn is the top one (smaller page y).
    let firstRowBase = fills[0].points[0].y, lastRowBase = fills[fills.count - 1].points[0].y
    #expect(firstRowBase < lastRowBase)
    let ticks = Dictionary(uniqueKeysWithValues: layout.axes[0].yTicks.ticks.map { ($0.label, $0.value) })
    #expect(ticks == ["epoch 1": 1, "epoch 2": 0])   // first row on top
    #expect(r.texts.contains { $0.string == "epoch 1" } && r.texts.contains { $0.string == "neg" })
}

@Test func ribbonsAreDrawnBackToFrontWithDepthLabels() throws {
    var figure = Figure(size: .column)
    let x = [0.0, 1, 2, 3]
    try figure[0, 0].ribbons3D([Ribbon(depth: 0.99, x: x, y: [1, 2, 3, 2], color: .black),
                                Ribbon(depth: 0.9, label: "m=0.9", x: x, y: [2, 1, 2, 1], color: .white)],
                               depthLabel: "momentum")
    let (r, _) = record(figure)
    let fills = clipped(r).compactMap { op -> (Path, Color)? in if case let .fill(p, c) = op { return (p, c) }; return nil }
    // Back ribbon (0.99, black) first: its top strip is the first fill in the clip.
    #expect(fills.first?.1 == .black)
    #expect(fills.contains { $0.1 == .white })
    #expect(r.texts.contains { $0.string == "m=0.9" } && r.texts.contains { $0.string == "0.99" })
    #expect(r.texts.contains { $0.string == "momentum" })
}

@Test func verticalMarkersDrawADashedLineAndALabelAboveThePlot() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [0, 100], y: [0, 1])
    figure[0, 0].verticalMarker(x: 50, label: "LR drop")
    let (r, layout) = record(figure)
    let plot = layout.axes[0].plot
    let dashed = clipped(r).compactMap { op -> Path? in if case let .stroke(p, s) = op, s.dash == .dashed { return p }; return nil }
    #expect(dashed.count == 1)
    #expect(abs(dashed[0].points[0].x - layout.axes[0].x(50)) < 1e-9)
    let label = try #require(r.texts.first { $0.string == "LR drop" })
    #expect(label.box.maxY <= plot.minY)
}

@Test func closeMarkerLabelsDoNotOverlap() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [0, 1000], y: [0, 1])
    figure[0, 0].verticalMarker(x: 10, label: "queue filled")
    figure[0, 0].verticalMarker(x: 20, label: "FT start")
    figure[0, 0].verticalMarker(x: 30, label: "LR drop")
    figure[0, 0].title = "neg variance"
    let (r, _) = record(figure)
    let boxes = r.texts.filter { ["queue filled", "FT start", "LR drop", "neg variance"].contains($0.string) }.map(\.box)
    #expect(boxes.count == 4)
    for i in boxes.indices { for j in boxes.indices where i < j { #expect(!boxes[i].intersects(boxes[j])) } }
}

@Test func emptyAxesStillDrawAFrameWithTicks() {
    let (r, layout) = record(Figure(size: .column))
    #expect(layout.axes[0].x.lower == 0 && layout.axes[0].x.upper == 1)
    #expect(!r.texts.isEmpty)
}
