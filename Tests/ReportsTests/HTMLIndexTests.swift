import Testing
import Foundation
@testable import Reports

@Test func indexEscapesEveryStringFromConfigsAndNames() {
    let evil = "<script>alert('x')</script> & \"q\""
    let page = HTMLIndex(
        title: "sweep \(evil)", description: evil, facts: [("runs", evil)],
        tables: [IndexTable(title: evil, header: ["setting", evil], rows: [[evil, "0.5"]], downloads: [("CSV", "t\"a b.csv")])],
        figures: [IndexFigure(title: evil, caption: evil, image: "fig \"<x>\".png", downloads: [("SVG", "javascript:alert(1)")])],
        configuration: "{\"name\": \"\(evil)\"}"
    ).render()
    #expect(!page.contains("<script>"))
    #expect(!page.contains("alert('x')"))
    #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"))
    #expect(page.contains("src=\"fig%20%22%3Cx%3E%22.png\""))
    #expect(page.contains("href=\"t%22a%20b.csv\""))
    #expect(!page.contains("href=\"javascript:"))
    #expect(page.hasPrefix("<!DOCTYPE html>"))
}

@Test func indexLinksAreRelativeSoThePageWorksOffline() {
    #expect(HTMLIndex.href("figures/curves.png") == "figures/curves.png")
    #expect(HTMLIndex.href("/etc/passwd") == "./etc/passwd")
    #expect(HTMLIndex.href("a#b?c.png") == "a%23b%3Fc.png")
    let page = HTMLIndex(title: "t", figures: [IndexFigure(title: "f", caption: "c", image: "figures/x.png")]).render()
    #expect(!page.contains("http://") && !page.contains("https://"))
    #expect(page.contains("<img src=\"figures/x.png\""))
}

@Test func indexTableHasOneRowPerBodyRow() {
    let page = HTMLIndex(title: "t", tables: [IndexTable(title: "T", header: ["a", "b"], rows: [["1", "2"], ["3", "4"]])]).render()
    #expect(page.components(separatedBy: "<tr>").count - 1 == 3)
    #expect(page.contains("<td>3</td><td>4</td>"))
}
