// Every figure kind as files: PNGs of the asked pixel size, SVGs that parse as XML, PDFs whose text (pdftotext,
// from poppler-utils, when installed) holds the axis labels, and golden PNG + SVG files per kind under Golden/,
// compared byte for byte. Golden files are pinned to this image's cairo/pixman/freetype/DejaVu versions and to
// the synthetic stores; regenerate them on purpose, after looking at them, with
//   SCORESCOPE_UPDATE_GOLDEN=1 swift test --filter ReportsTests.golden
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plotting
import Testing
@testable import Reports

private let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

/// Each kind from the test stores (the momentum sweep, or the small golden sweep), with the texts its PDF must
/// carry (pdftotext splits rotated text, so only upright labels are listed).
private func everyKind(golden: Bool = false) throws -> [(kind: FigureKind, figure: Figure, labels: [String])] {
    let fixtures = try Fixtures.load()
    let sweep = try RunSource.open([golden ? fixtures.goldenSweep : fixtures.momentumSweep])
    let one = [golden ? sweep[1] : try RunSource(directory: fixtures.momentumRuns[1])]
    return [
        (.curves, try ReportFigures.curves(sweep), ["iteration", "neg variance (per query)", "queue filled"]),
        (.variousM, try ReportFigures.variousMomenta(sweep), ["iteration", "0.999", "pos mean"]),
        (.heatmap, try ReportFigures.heatmap(one), ["iteration", "cosine score", "score after FT", "density"]),
        (.ridgeline, try ReportFigures.ridgeline(one), ["cosine score", "epoch 1"]),
        (.ftShift, try ReportFigures.featureTransformShift(one), ["positive score", "negative score", "pos after FT"]),
        (.training, try ReportFigures.training(sweep), ["iteration", "epoch", "gradient norm"]),
        (.sphere, try ReportFigures.sphere(one), ["positive extrapolation", "negative interpolation"]),
        (.ablation, try ReportFigures.ablation(try RunSource.open([fixtures.ablationSweep])), ["top-1 accuracy (%)", "linear top-1"]),
    ]
}

private func checkGolden(_ name: String, _ bytes: [UInt8]) throws {
    let url = goldenFolder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["SCORESCOPE_UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: goldenFolder, withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return
    }
    let expected = try #require(try? Data(contentsOf: url), "missing golden \(name): run with SCORESCOPE_UPDATE_GOLDEN=1")
    let same = [UInt8](expected) == bytes   // compared outside #expect, which would print every byte
    #expect(same, "\(name) differs from its golden file (\(expected.count) vs \(bytes.count) bytes); look at both, then regenerate on purpose")
}

@Test func goldenFilesMatchForEveryKind() throws {
    for (kind, figure, _) in try everyKind(golden: true) {
        try checkGolden("\(kind.fileStem).png", try figure.data(format: .png, dpi: 72))
        try checkGolden("\(kind.fileStem).svg", try figure.data(format: .svg))
    }
}

@Test func pngsHaveTheAskedPixelSize() throws {
    for (kind, figure, _) in try everyKind() {
        for dpi in [72.0, 150] {
            let size = try #require(pngSize(try figure.data(format: .png, dpi: dpi)), "\(kind.rawValue) is not a PNG")
            #expect(size == figure.pixelSize(dpi: dpi), "\(kind.rawValue) at \(dpi) dpi")
        }
    }
    // --size WxH is taken literally.
    let runs = try Fixtures.load().momentumSources()
    let sized = try ReportFigures.curves(runs, options: FigureOptions(size: .points(width: 360, height: 180)))
    #expect(pngSize(try sized.data(format: .png, dpi: 200)).map { [$0.0, $0.1] } == [1000, 500])
}

@Test func svgsParseAsXML() throws {
    final class Root: NSObject, XMLParserDelegate {
        var name: String?
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == nil { name = element }
        }
    }
    for (kind, figure, _) in try everyKind() {
        let parser = XMLParser(data: Data(try figure.data(format: .svg)))
        let root = Root()
        parser.delegate = root
        #expect(parser.parse(), "\(kind.rawValue).svg does not parse: \(String(describing: parser.parserError))")
        #expect(root.name == "svg")
    }
}

@Test func pdfsCarryTheirAxisLabels() throws {
    let tool = ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let tool else {
        print("pdfsCarryTheirAxisLabels: SKIPPED the text check: pdftotext is missing (apt-get install -y poppler-utils)")
        for (kind, figure, _) in try everyKind() {
            #expect(String(decoding: try figure.data(format: .pdf).prefix(5), as: UTF8.self) == "%PDF-", "\(kind.rawValue)")
        }
        return
    }
    let folder = try scratchFolder("pdf")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for (kind, figure, labels) in try everyKind() {
        let path = folder + "/\(kind.fileStem).pdf"
        try ReportFigures.write(figure, to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = [path, "-"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        for label in labels { #expect(text.contains(label), "\(kind.rawValue).pdf lacks '\(label)'") }
    }
}

@Test func figuresAreByteIdenticalAcrossRenders() throws {
    let fixtures = try Fixtures.load()
    let first = try ReportFigures.figure(.heatmap, directories: [fixtures.momentumSweep]).data(format: .png, dpi: 60)
    let second = try ReportFigures.figure(.heatmap, directories: [fixtures.momentumSweep]).data(format: .png, dpi: 60)
    #expect(first == second)
}
