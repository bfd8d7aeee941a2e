// CSV export round trip: every exported number reads back to the stored value exactly; and the CSV parser.
import Foundation
import Testing
import Recording
@testable import Analysis

@Test func exportedCSVReadsBackToTheStoredValues() throws {
    let run = temporaryFolder()
    let out = temporaryFolder("export-out")
    defer {
        try? FileManager.default.removeItem(atPath: run)
        try? FileManager.default.removeItem(atPath: out)
    }
    try makeRun(at: run, config: #"{"seed":1}"#, steps: 12, noise: 0.003, knn: 0.61, linear: 0.58)
    let written = try RunExport.writeCSV(runDirectory: run, to: out)
    #expect(written.map { ($0 as NSString).lastPathComponent } == RunExport.fileNames)
    let reader = try RunReader(directory: run)

    let steps = try CSV.parse(String(contentsOfFile: out + "/steps.csv", encoding: .utf8))
    #expect(steps[0] == ["step", "epoch", "lr", "momentum", "loss", "instance_acc", "grad_norm", "pos_mean", "pos_var",
                         "neg_mean", "neg_var_query", "neg_var_all", "lambda_ex", "lambda_in", "ms"])
    let stored = try reader.steps()
    #expect(steps.count == stored.count + 1)
    for (row, record) in zip(steps.dropFirst(), stored) {
        #expect(Int(row[0]) == record.step && Int(row[1]) == record.epoch)
        #expect(Double(row[7]) == record.scores.positiveMean)          // exact: shortest round-trip text
        #expect(Double(row[10]) == record.scores.negativeVarianceQuery)
        #expect(row[12] == "" && row[13] == "")                          // no lambdas: empty cells
    }

    let bins = try CSV.parse(String(contentsOfFile: out + "/histograms.csv", encoding: .utf8))
    #expect(bins[0] == ["step", "stream", "bin", "bin_lower", "bin_upper", "count"])
    #expect(bins.count == 1 + 12 * 2 * 200)                              // one row per step, stream, bin
    let totals = try CSV.parse(String(contentsOfFile: out + "/histogram_totals.csv", encoding: .utf8))
    #expect(totals.count == 1 + 12 * 2)
    for total in totals.dropFirst() {
        let step = Int(total[0])!, stream = ScoreStream(rawValue: total[1])!
        let h = try reader.histogram(stream, step: step)!
        let fromBins = bins.dropFirst().filter { $0[0] == total[0] && $0[1] == total[1] }.map { UInt32($0[5])! }
        #expect(fromBins == h.counts)
        #expect(Int(total[8]) == h.count && Double(total[9]) == h.sum && Double(total[11]) == h.minimum)
    }
    let firstBin = bins[1]
    #expect(Double(firstBin[3]) == -1 && Double(firstBin[4]) == -0.99)

    let evals = try CSV.parse(String(contentsOfFile: out + "/evals.csv", encoding: .utf8))
    #expect(evals == [["step", "epoch", "kind", "top1", "top5"], ["12", "3", "knn", "0.61", ""],
                      ["12", "3", "linear", "0.58", ""]])
    let events = try CSV.parse(String(contentsOfFile: out + "/events.csv", encoding: .utf8))
    #expect(events == [["step", "kind", "detail"], ["10", "queue_filled", ""]])

    // Every second step only.
    let sparse = temporaryFolder("export-sparse")
    defer { try? FileManager.default.removeItem(atPath: sparse) }
    try RunExport.writeCSV(runDirectory: run, to: sparse, histogramEvery: 2)
    #expect(try CSV.parse(String(contentsOfFile: sparse + "/histogram_totals.csv", encoding: .utf8)).count == 1 + 6 * 2)
}

@Test func csvParserHandlesQuotesCommasAndLineBreaks() throws {
    let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n,,\n\"\",z,\n"
    #expect(try CSV.parse(text) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["", "", ""], ["", "z", ""]])
    #expect(try CSV.parse("1,2") == [["1", "2"]])
    #expect(throws: AnalysisError.self) { try CSV.parse("\"open") }
    for cell in ["plain", "a,b", "q\"q", "line\nbreak"] {
        #expect(try CSV.parse(CSV.quote(cell) + "\n") == [[cell]])
    }
}
