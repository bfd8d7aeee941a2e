// Layout: texts stay inside the figure and off every plot area, tick labels never collide, legends stay
// inside their plot and avoid data, shared axes hide inner labels and agree on limits.
import Foundation
import Testing
@testable import Plotting

/// True when two convex polygons share interior area (separating-axis test), each shrunk by `margin`.
func convexOverlap(_ a: [Point], _ b: [Point], margin: Double = 0.3) -> Bool {
    for polygon in [a, b] {
        for i in polygon.indices {
            let p = polygon[i], q = polygon[(i + 1) % polygon.count]
            let axis = Point(q.y - p.y, p.x - q.x)
            let length = hypot(axis.x, axis.y)
            guard length > 0 else { continue }
            func project(_ poly: [Point]) -> (Double, Double) {
                let values = poly.map { ($0.x * axis.x + $0.y * axis.y) / length }
                return (values.min()!, values.max()!)
            }
            let (a0, a1) = project(a), (b0, b1) = project(b)
            if a1 - margin <= b0 + margin || b1 - margin <= a0 + margin { return false }
        }
    }
    return true
}

/// Texts drawn inside plot areas on purpose: legend entries.
private func legendLabels(_ figure: Figure) -> Set<String> {
    Set(figure.allAxes.flatMap { $0.legendEntries.map(\.label) })
}

@Test func textsStayInsideTheFigureAndOffEveryPlotArea() throws {
    for (name, figure) in try Gallery.all() {
        let (r, layout) = record(figure)
        let page = Rect(x: 0, y: 0, width: figure.width, height: figure.height)
        let legends = legendLabels(figure)
        for text in r.texts {
            #expect(page.contains(text.box, tolerance: 0.01), "\(name): '\(text.string)' at \(text.box) leaves the page")
            guard !legends.contains(text.string) else { continue }
            for axes in layout.axes {
                #expect(!convexOverlap(axes.dataOutline, text.corners, margin: 0.25), "\(name): '\(text.string)' overlaps a plot area")
            }
        }
    }
}

@Test func tickLabelsAndAxisTextsNeverOverlapEachOther() throws {
    for (name, figure) in try Gallery.all() {
        let (r, _) = record(figure)
        let legends = legendLabels(figure)
        let texts = r.texts.filter { !legends.contains($0.string) }
        for i in texts.indices {
            for j in texts.indices where i < j {
                #expect(!convexOverlap(texts[i].corners, texts[j].corners),
                        "\(name): '\(texts[i].string)' overlaps '\(texts[j].string)'")
            }
        }
    }
}

@Test func legendSitsInsideThePlotWhereItHidesTheLeastData() throws {
    // Data fills the upper right: the legend must go elsewhere, inside the plot.
    var figure = Figure(size: .column)
    let x = (0...200).map { Double($0) / 200 }
    try figure[0, 0].line(x: x, y: x.map { $0 * $0 }, label: "rising")
    try figure[0, 0].scatter(x: [0.9, 0.95, 1], y: [0.9, 0.95, 1], label: "points")
    let (r, layout) = record(figure)
    let plot = layout.axes[0].plot
    let labels = r.texts.filter { $0.string == "rising" || $0.string == "points" }
    #expect(labels.count == 2)
    let legendBox = labels.map(\.box).reduce(labels[0].box) { $0.union($1) }
    #expect(plot.contains(legendBox))
    #expect(legendBox.minX < plot.midX, "legend should avoid the upper-right data")
    let line = r.strokes.first { $0.path.points.count == 201 }
    let covered = try #require(line).path.points.filter { legendBox.insetBy(-1).contains($0) }
    #expect(covered.isEmpty)
}

@Test func outsideLegendGetsRoomRightOfThePlot() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(x: [0, 1], y: [0, 1], label: "a long legend label")
    figure[0, 0].legendPosition = .outsideRight
    let (r, layout) = record(figure)
    let label = try #require(r.texts.first { $0.string == "a long legend label" })
    #expect(label.box.minX > layout.axes[0].plot.maxX)
    #expect(label.box.maxX <= figure.width)
}

@Test func sharedAxesAgreeOnLimitsAndHideInnerTickLabels() throws {
    var figure = Figure(size: .text, rows: 2, columns: 2)
    figure.sharedX = .all
    figure.sharedY = .row
    try figure[0, 0].line(x: [0, 10], y: [0, 1])
    try figure[0, 1].line(x: [0, 20], y: [0, 5])
    try figure[1, 0].line(x: [5, 30], y: [-1, 1])
    try figure[1, 1].line(x: [0, 1], y: [0, 2])
    let (_, layout) = record(figure)
    let xs = Set(layout.axes.map { "\($0.x.lower),\($0.x.upper)" })
    #expect(xs.count == 1)
    #expect(layout.axes[0].y.upper == layout.axes[1].y.upper && layout.axes[2].y.lower == layout.axes[3].y.lower)
    #expect(layout.axes[0].y.upper != layout.axes[2].y.upper)
    #expect(layout.axes.map(\.showXTickLabels) == [false, false, true, true])
    #expect(layout.axes.map(\.showYTickLabels) == [true, false, true, false])
    // Panels of a grid line up and have equal sizes.
    #expect(layout.axes[0].plot.minX == layout.axes[2].plot.minX && layout.axes[0].plot.width == layout.axes[3].plot.width)
    #expect(layout.axes[0].plot.minY == layout.axes[1].plot.minY)
}

@Test func marginsGrowWithLongerTickLabels() throws {
    var short = Figure(size: .column), long = Figure(size: .column)
    try short[0, 0].line(x: [0, 1], y: [0, 1])
    try long[0, 0].line(x: [0, 1], y: [0, 1])
    long[0, 0].yTickFormat = .custom { "value \(Int($0 * 100))" }
    let a = record(short).1.axes[0].plot, b = record(long).1.axes[0].plot
    #expect(b.minX > a.minX + 10)
}

@Test func figureSizesFollowPaperPresets() {
    #expect(Figure(size: .column).width == 241)
    #expect(Figure(size: .text, rows: 1, columns: 3).width == 505)
    let custom = Figure(size: .points(width: 300, height: 120))
    #expect(custom.width == 300 && custom.height == 120)
    #expect(Figure(width: 241, height: 180).pixelSize(dpi: 200) == (669, 500))
}
