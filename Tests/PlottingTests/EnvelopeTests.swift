// Long series: the per-column min/max envelope keeps spikes, the mean keeps the trend, and all points count.
import Foundation
import Testing
@testable import Plotting

@Test func envelopeKeepsASingleSpikeAmongAHundredThousandPoints() {
    let n = 100_000
    let x = (0..<n).map(Double.init)
    var y = x.map { sin($0 / 5000) }
    y[54_321] = 10
    let map = AxisMap(scale: .linear, lower: 0, upper: Double(n - 1), start: 0, end: 400)
    let columns = Envelope.reduce(x: x, y: y, range: 0..<n, map: map, columnWidth: 0.5)
    #expect(columns.count <= 801 && columns.count >= 799)
    #expect(columns.map(\.count).reduce(0, +) == n)
    #expect(columns.map(\.maximum).max() == 10)
    // Every-n-th decimation at the same budget would miss it:
    #expect(!stride(from: 0, to: n, by: n / columns.count).contains(54_321))
    // The mean of each column lies between its extremes.
    #expect(columns.allSatisfy { $0.minimum <= $0.mean && $0.mean <= $0.maximum })
}

@Test func longLinesAreDrawnAsEnvelopePlusMean() throws {
    var figure = Figure(size: .column)
    let n = 50_000
    var y = (0..<n).map { Double($0 % 7) }
    y[25_000] = 100
    try figure[0, 0].line(y: y, color: .black)
    let renderer = RecordingRenderer(pixelsPerPoint: 1)
    figure.render(to: renderer)
    let ops = clipped(renderer)
    let envelope = ops.compactMap { op -> Path? in if case let .fill(p, _) = op { return p }; return nil }
    let lines = ops.compactMap { op -> Path? in if case let .stroke(p, s) = op, s.width > 0.5 { return p }; return nil }
    #expect(envelope.count == 1 && lines.count == 1)
    #expect(lines[0].points.count < 400)   // about one point per pixel column, not 50k
    let layout = figure.layout(measuringWith: renderer)
    let spikeY = layout.axes[0].y(100)
    #expect(envelope[0].points.contains { abs($0.y - spikeY) < 1e-9 })
}

@Test func shortLinesAreNotReduced() throws {
    var figure = Figure(size: .column)
    try figure[0, 0].line(y: (0..<100).map { Double($0 % 3) })
    let renderer = RecordingRenderer()
    figure.render(to: renderer)
    let lines = clipped(renderer).compactMap { op -> Path? in if case let .stroke(p, _) = op { return p }; return nil }
    #expect(lines.count == 1 && lines[0].points.count == 100)
}
