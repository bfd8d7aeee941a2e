// Golden files: a small PNG and SVG checked in under Golden/, compared byte for byte. They are pinned to this
// image's cairo/pixman/freetype/DejaVu versions. Regenerate on purpose with
// SCORESCOPE_UPDATE_GOLDEN=1 swift test --filter PlottingTests.golden
import Foundation
import Testing
@testable import Plotting

private let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

private func checkGolden(_ name: String, _ bytes: [UInt8]) throws {
    let url = goldenFolder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["SCORESCOPE_UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: goldenFolder, withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return
    }
    let expected = try #require(try? Data(contentsOf: url), "missing golden \(name): run with SCORESCOPE_UPDATE_GOLDEN=1")
    #expect([UInt8](expected) == bytes, "\(name) differs from its golden file; look at both, then regenerate on purpose")
}

@Test func goldenPNGMatches() throws {
    try checkGolden("small.png", try smallFigure().data(format: .png, dpi: 100))
}

@Test func goldenSVGMatches() throws {
    try checkGolden("small.svg", try smallFigure().data(format: .svg))
}
