// Files: PNG size and bytes, SVG as XML in px with stable ids, PDF with a fixed date, determinism, errors.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Plotting

func smallFigure() throws -> Figure {
    var figure = Figure(size: .points(width: 160, height: 110))
    let x = (0..<50).map { Double($0) * 100 }
    try figure[0, 0].heatmap(xEdges: [0, 2500, 5000], yEdges: [-1, 0, 1], values: [[0.1, 0.5], [0.9, 0.3]], colormap: .cividis)
    try figure[0, 0].line(x: x, y: x.map { sin($0 / 800) }, label: "sin", color: Palette.categorical(3))
    figure[0, 0].xTickFormat = .iterations
    figure[0, 0].xLabel = "iteration"
    figure[0, 0].yLabel = "score"
    figure[0, 0].verticalMarker(x: 2000, label: "FT start")
    return figure
}

/// Width and height from a PNG's IHDR chunk.
func pngSize(_ bytes: [UInt8]) -> (Int, Int)? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count > 24, Array(bytes[0..<8]) == signature, String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR" else { return nil }
    func be32(_ i: Int) -> Int { bytes[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

@Test func pngHasTheAskedPixelSize() throws {
    let figure = try smallFigure()
    for dpi in [72.0, 150, 200] {
        let size = try #require(pngSize(try figure.data(format: .png, dpi: dpi)))
        #expect(size == figure.pixelSize(dpi: dpi))
    }
    #expect(figure.pixelSize(dpi: 200) == (444, 306))
}

@Test func sameFigureGivesTheSameBytesInEveryFormat() throws {
    let figure = try smallFigure()
    for format in OutputFormat.allCases {
        let first = try figure.data(format: format)
        _ = try Gallery.ridgeline().data(format: format)   // other surfaces in between bump Cairo's counters
        let second = try figure.data(format: format)
        #expect(first == second, "\(format.rawValue) output differs between two renders")
    }
}

@Test func svgIsXMLInPixelsWithRenumberedIds() throws {
    let bytes = try smallFigure().data(format: .svg)
    let parser = XMLParser(data: Data(bytes))
    final class Collector: NSObject, XMLParserDelegate {
        var root: [String: String] = [:]
        var ids: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "svg" { root = attributes }
            if let id = attributes["id"] { ids.append(id) }
        }
    }
    let collector = Collector()
    parser.delegate = collector
    #expect(parser.parse(), "SVG does not parse: \(String(describing: parser.parserError))")
    // 160 pt at 96 px per inch.
    #expect(collector.root["width"] == "213.333333px" && collector.root["height"] == "146.666667px")
    #expect(Set(collector.ids).count == collector.ids.count, "duplicate ids")
    let surfaces = collector.ids.filter { $0.hasPrefix("surface") || $0.hasPrefix("image") }
    #expect(surfaces.allSatisfy { ["surface1", "surface2", "surface3", "image1", "image2", "image3"].contains($0) })
}

@Test func svgIdNormalisationTouchesOnlyQuotedOrReferencedIds() {
    let input = ##"<g id="surface88"><use xlink:href="#image12"/><image href="data:xsurface5+image7"/><g id="surface90"/><use xlink:href="#surface88"/></g>"##
    let output = String(decoding: CairoEncoder.normalizedSVG(Array(input.utf8)), as: UTF8.self)
    #expect(output == ##"<g id="surface1"><use xlink:href="#image1"/><image href="data:xsurface5+image7"/><g id="surface2"/><use xlink:href="#surface1"/></g>"##)
}

@Test func pdfCarriesAFixedCreationDate() throws {
    let bytes = try smallFigure().data(format: .pdf)
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasPrefix("%PDF-"))
    #expect(text.contains("/CreationDate (20200101000000)"))   // cairo 1.16 writes the date without "D:"
}

@Test func writeChoosesTheFormatByExtension() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plotting-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let figure = try smallFigure()
    for name in ["a.png", "b.SVG", "c.pdf"] {
        let path = folder.appendingPathComponent(name).path
        try figure.write(to: path, dpi: 100)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let format = try #require(OutputFormat(path: name))
        #expect(bytes == (try figure.data(format: format, dpi: 100)))
    }
}

@Test func badPathsAndFormatsThrowClearErrors() throws {
    let figure = try smallFigure()
    #expect(throws: PlotError.unknownFormat(path: "/tmp/figure.jpg", known: ["png", "svg", "pdf"])) {
        try figure.write(to: "/tmp/figure.jpg")
    }
    do {
        try figure.write(to: "/nonexistent-folder-\(UUID().uuidString)/figure.png")
        Issue.record("writing into a missing folder did not throw")
    } catch let error {
        guard case let .unwritablePath(_, reason) = error else { Issue.record("wrong error \(error)"); return }
        #expect(reason.contains("does not exist"))
        #expect(error.description.contains("cannot write"))
    }
    #expect(throws: PlotError.self) { try figure.data(format: .png, dpi: 0) }
    #expect(throws: PlotError.self) { try Figure(width: 0, height: 10).data(format: .svg) }
}

@Test func badDataThrowsTypedErrorsNamingTheArtist() {
    var axes = Axes()
    #expect(throws: PlotError.emptyData(what: "line 'loss'")) { try axes.line(x: [], y: [], label: "loss") }
    #expect(throws: PlotError.lengthMismatch(what: "scatter (y)", expected: 2, actual: 1)) { try axes.scatter(x: [1, 2], y: [1]) }
    #expect(throws: PlotError.invalidEdges(what: "histogram edges")) { try axes.histogram(edges: [0, 2, 1], counts: [1, 1]) }
    #expect(throws: PlotError.lengthMismatch(what: "histogram counts", expected: 2, actual: 3)) {
        try axes.histogram(edges: [0, 1, 2], counts: [1, 1, 1])
    }
    #expect(throws: PlotError.self) { try axes.heatmap(xEdges: [0, 1], yEdges: [0, 1], values: [[1], [2]]) }
    #expect(throws: PlotError.self) { try axes.heatmap(xEdges: [0, 1], yEdges: [0, 1], values: [[1]], colorScale: .log, valueRange: 0...1) }
    #expect(throws: PlotError.self) { try axes.bars(x: [1], heights: [1], width: -1) }
    #expect(throws: PlotError.self) { try axes.ridgeline([], rowLabels: ["a"]) }
    #expect(throws: PlotError.self) { try axes.ribbons3D([Ribbon(depth: 0.9, x: [1, 2], y: [1])]) }
    #expect(axes.isEmpty)
}
