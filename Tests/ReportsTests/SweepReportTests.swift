// The sweep report: which figures and tables it writes, that every link of index.html resolves to a file in the
// report folder, that names from folders and sweep files are escaped, and that a figure a run cannot support is
// listed with its reason instead of failing the report.
import Foundation
import Testing
@testable import Reports

/// Every src="..." and href="..." of a page, percent-decoded.
private func links(_ page: String) -> [String] {
    var found: [String] = []
    for attribute in ["src=\"", "href=\""] {
        var rest = page[...]
        while let start = rest.range(of: attribute) {
            rest = rest[start.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { break }
            let raw = String(rest[..<end]).replacingOccurrences(of: "&amp;", with: "&")
            found.append(raw.removingPercentEncoding ?? raw)
            rest = rest[end...]
        }
    }
    return found
}

@Test func reportWritesEveryFigureTablesAndAnIndexWhoseLinksResolve() throws {
    let fixtures = try Fixtures.load()
    let out = try scratchFolder("report")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let result = try SweepReport.build(directory: fixtures.momentumSweep, output: out, generator: "scorescope test")
    #expect(result.indexPath == out + "/index.html")
    #expect(result.skipped.isEmpty, "\(result.skipped)")
    let stems = Set(result.figures.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
    #expect(stems == Set(FigureKind.allCases.map(\.fileStem)))
    #expect(result.figures.count == 2 * FigureKind.allCases.count)
    #expect(Set(result.tables) == ["tables/tables.md", "tables/tables.tex", "tables/runs.csv", "tables/groups.csv", "tables/correlations.csv"])

    let page = try String(contentsOfFile: result.indexPath, encoding: .utf8)
    let targets = links(page)
    #expect(targets.count >= 3 * FigureKind.allCases.count)
    for target in targets {
        #expect(!target.hasPrefix("/") && !target.contains("://"), "\(target) is not a relative link")
        #expect(FileManager.default.fileExists(atPath: out + "/" + target), "\(target) does not exist")
    }
    #expect(page.contains("<h1>momentum-test</h1>"))
    #expect(page.contains("&quot;grid&quot;: {&quot;momentum&quot;: [0.9, 0.99, 0.999]}"))   // the sweep file, escaped
    #expect(page.contains("<td>m0.99-s2</td>"))
    let markdown = try String(contentsOfFile: out + "/tables/tables.md", encoding: .utf8)
    #expect(markdown.contains("| m0.999-s1 |"))
    #expect(try String(contentsOfFile: out + "/tables/tables.tex", encoding: .utf8).contains("\\begin{tabular}"))
}

@Test func reportEscapesNamesFromFoldersAndTheSweepFile() throws {
    let fixtures = try Fixtures.load()
    let out = try scratchFolder("report-evil")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let result = try SweepReport.build(directory: fixtures.evilSweep, output: out)
    let page = try String(contentsOfFile: result.indexPath, encoding: .utf8)
    #expect(!page.contains("<script>") && !page.contains("<b>&") && !page.contains("<i>"))
    #expect(page.contains("sweep &lt;script&gt;alert(1)&lt;/script&gt;"))
    #expect(page.contains("a &amp; b &lt;i&gt;"))
    #expect(page.contains("m0.99 &lt;b&gt;&amp;&quot;x&quot;"))
    for target in links(page) { #expect(FileManager.default.fileExists(atPath: out + "/" + target), "\(target)") }
}

@Test func reportListsFiguresThatARunCannotSupportAndStillWritesTheRest() throws {
    let fixtures = try Fixtures.load()
    // A sweep folder holding the bare store (steps only) and one complete run.
    let sweep = try scratchFolder("report-mixed")
    let out = sweep + "/report"
    defer { try? FileManager.default.removeItem(atPath: sweep) }
    try FileManager.default.copyItem(atPath: fixtures.bare, toPath: sweep + "/bare")
    try FileManager.default.copyItem(atPath: fixtures.momentumRuns[0], toPath: sweep + "/m0.9-s1")
    let result = try SweepReport.build(directory: sweep, output: out)
    #expect(result.skipped.map(\.kind).contains(.heatmap))
    #expect(result.figures.contains("figures/curves.png") && result.figures.contains("figures/training.svg"))
    let page = try String(contentsOfFile: result.indexPath, encoding: .utf8)
    #expect(page.contains("Figure heatmap not drawn: run &#39;bare&#39; has no pos/neg histograms"))
}

@Test func reportOfAFolderWithoutRunsFails() throws {
    let empty = try scratchFolder("report-empty")
    defer { try? FileManager.default.removeItem(atPath: empty) }
    #expect(throws: ReportError.self) { _ = try SweepReport.build(directory: empty) }
}
