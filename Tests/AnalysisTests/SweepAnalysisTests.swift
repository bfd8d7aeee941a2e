// Runs read from real stores: warm-up, quantile series, the collapse check, grouping over seeds, intervals,
// Spearman across settings, and the rendered tables.
import Foundation
import Testing
import Recording
@testable import Analysis

func temporaryFolder(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    return FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-ana-\(safe)-\(UUID().uuidString)").path
}

/// A synthetic run: `steps` steps of B = 8, K = 32 whose pos scores sit at `positive(step)`, whose neg variance
/// per query wobbles with amplitude `noise`, with a queue_filled event at step 10 and a final kNN accuracy.
func makeRun(at folder: String, config: String, steps: Int = 60, noise: Double, knn: Double?, linear: Double? = nil,
             positive: (Int) -> Double = { 0.5 + 0.001 * Double($0) }, loss: (Int) -> Double = { _ in 5 },
             negativeVariance: Double = 0.02, status: RunStatus = .finished) throws {
    let store = try RunStore(directory: folder)
    try store.setConfig(json: config)
    for step in 1...steps {
        let p = positive(step)
        let positives = (0..<8).map { Float(p + 0.01 * Double($0 - 4) / 4) }
        let negatives = (0..<(8 * 32)).map { Float(0.05 * sin(Double($0 + step))) }
        let summary = try ScoreSummary(positive: positives, negative: negatives, threads: 1)
        let wobble = step % 2 == 0 ? noise : -noise
        let record = StepRecord(step: step, epoch: 1 + step / 20, learningRate: 0.06, momentum: 0.9, loss: loss(step),
                                instanceAccuracy: 0.5, gradientNorm: 1,
                                scores: ScoreStatistics(positiveMean: p, positiveVariance: 1e-4, negativeMean: 0,
                                                        negativeVarianceQuery: negativeVariance + wobble,
                                                        negativeVarianceAll: negativeVariance),
                                milliseconds: 10)
        try store.record(step: record, histograms: [(.positive, summary.positive), (.negative, summary.negative)])
    }
    try store.addEvent(step: 10, kind: .queueFilled)
    if let knn { try store.addEval(EvalRecord(step: steps, epoch: 3, kind: .knn, top1: knn)) }
    if let linear { try store.addEval(EvalRecord(step: steps, epoch: 3, kind: .linear, top1: linear)) }
    try store.setStatus(status)
    try store.close()
}

@Test func aRunIsAnalysedFromTheQueueFilledStep() throws {
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try makeRun(at: folder, config: #"{"seed":1,"momentum":0.99}"#, noise: 0.001, knn: 0.6, linear: 0.55)
    let run = try RunAnalyzer.analyze(directory: folder)
    #expect(run.warmupStep == 10 && run.warmupSource == .queueFilledEvent)
    #expect(run.metrics["pos_mean"]?.count == 51)                 // steps 10…60
    #expect(near(run.metrics["pos_mean"]!.drift, 1.0, 1e-9))      // 0.001 per step
    #expect(near(run.metrics["pos_mean"]!.level, 0.535, 1e-12))
    #expect(run.metrics["pos_mean"]!.roughness < 1e-12)
    #expect(near(run.metrics["neg_var_query"]!.level, 0.02, 1e-2)) // ±noise alternating around 0.02
    #expect(run.finalKnnTop1 == 0.6 && run.finalLinearTop1 == 0.55)
    #expect(run.negativesPerQuery == 32)
    #expect(run.config["momentum"] == .number(0.99))
    #expect(!run.collapse.flagged)
    // Quantile series from the histograms: the pos median tracks the pos mean within one bin (0.01).
    let median = run.metrics[RunAnalyzer.quantileSeriesName(.positive, 0.5)]!
    #expect(abs(median.level - 0.535) <= 0.011)
    #expect(run.metrics["neg_q95"] != nil && run.metrics["neg_q05"]!.level < run.metrics["neg_q95"]!.level)

    let given = try RunAnalyzer.analyze(directory: folder, options: AnalysisOptions(warmupStep: 31))
    #expect(given.warmupSource == .given && given.metrics["loss"]?.count == 30)
}

@Test func collapsedRunsAreFlagged() throws {
    let root = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    try makeRun(at: root + "/saturated", config: #"{"seed":1}"#, noise: 0, knn: 0.1, positive: { _ in 0.999 },
                negativeVariance: 1e-6)
    try makeRun(at: root + "/chance", config: #"{"seed":1}"#, noise: 0.001, knn: 0.1, loss: { _ in log(33) })
    try makeRun(at: root + "/diverged", config: #"{"seed":1}"#, noise: 0.001, knn: nil, status: .diverged)
    try makeRun(at: root + "/healthy", config: #"{"seed":1}"#, noise: 0.001, knn: 0.5, loss: { 6 - 0.01 * Double($0) })
    let saturated = try RunAnalyzer.analyze(directory: root + "/saturated").collapse
    #expect(saturated.saturated && saturated.flagged && !saturated.atChance)
    let chance = try RunAnalyzer.analyze(directory: root + "/chance").collapse
    #expect(chance.atChance && !chance.saturated)
    #expect(try RunAnalyzer.analyze(directory: root + "/diverged").collapse.diverged)
    let healthy = try RunAnalyzer.analyze(directory: root + "/healthy").collapse
    #expect(!healthy.flagged && healthy.reason.isEmpty)
}

@Test func runsAreGroupedOverSeedsWithIntervalsAndRankCorrelations() throws {
    let root = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    // Lower momentum → noisier neg variance and lower accuracy, the paper's picture.
    let settings: [(Double, Double, [Double])] = [(0.9, 0.004, [0.40, 0.44]), (0.99, 0.002, [0.55, 0.57]),
                                                  (0.999, 0.001, [0.60, 0.64])]
    for (m, noise, accuracies) in settings {
        for (seed, accuracy) in zip([1, 2], accuracies) {
            let config = #"{"seed":\#(seed),"momentum":\#(m),"threads":\#(seed),"ft":{"positive":"none","alphas":[1,2]}}"#
            try makeRun(at: root + "/m\(m)-s\(seed)", config: config, noise: noise * (seed == 1 ? 1 : 1.1),
                        knn: accuracy)
        }
    }
    let runs = try RunReader.findRuns(under: root).map { try RunAnalyzer.analyze(directory: $0) }
    #expect(runs.count == 6)
    let sweep = SweepAnalysis(runs: runs)
    #expect(sweep.groupKeys == ["momentum"])  // seed and threads vary but are ignored; ft.* is constant
    #expect(sweep.groups.map(\.label) == ["momentum=0.9", "momentum=0.99", "momentum=0.999"])
    let top = sweep.groups[2]
    #expect(top.runs.count == 2)
    let knn = top.intervals["knn_top1"]!
    #expect(near(knn.mean, 0.62, 1e-12))
    #expect(near(knn.halfWidth, 12.7062047 * (0.0008).squareRoot() / 2.0.squareRoot(), 1e-7))  // t(0.975, 1)·s/√2
    #expect(top.intervals["linear_top1"]!.count == 0)
    let rough = sweep.correlations.first { $0.metric == "neg_var_query.roughness" && $0.accuracy == "knn_top1" }!
    #expect(rough.rho == -1 && rough.settings == 3)
    let level = sweep.correlations.first { $0.metric == "pos_mean.level" && $0.accuracy == "knn_top1" }!
    #expect(level.rho.isNaN)  // identical pos mean in every setting: ρ undefined

    // Explicit grouping (the FT ablation path): one group per ft.positive value.
    let byFeature = SweepAnalysis(runs: runs, groupBy: ["ft.positive"])
    #expect(byFeature.groups.count == 1 && byFeature.groups[0].runs.count == 6)
    #expect(byFeature.groups[0].label == "ft.positive=none")
    // Config numbers stay numbers in JSON, and keep their full text elsewhere.
    let json = Table.render([sweep.groupsTable()], .json)
    #expect(json.contains("\"momentum\":0.999"))
    #expect(sweep.groupsTable().render(.markdown).contains("| 0.999 | 2 |"))
}

@Test func tablesRenderInEveryFormatWithEscaping() throws {
    let root = temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    for (i, name) in ["a_b & c|d", "plain"].enumerated() {
        try makeRun(at: root + "/r\(i)", config: #"{"seed":1,"ft":{"positive":"\#(name)"}}"#, noise: 0.001,
                    knn: 0.5 + 0.1 * Double(i))
    }
    let runs = try RunReader.findRuns(under: root).map { try RunAnalyzer.analyze(directory: $0) }
    let sweep = SweepAnalysis(runs: runs, metrics: try MetricSelector.parse("neg_var_query.roughness") + MetricSelector.parse("pos_mean"))
    #expect(sweep.metrics.count == 6)
    let tables = [sweep.runsTable(), sweep.groupsTable(), sweep.correlationsTable()]

    let markdown = Table.render(tables, .markdown)
    #expect(markdown.contains("a_b & c\\|d"))
    #expect(markdown.contains("### Runs"))

    let latex = Table.render(tables, .latex)
    #expect(latex.contains("a\\_b \\& c|d"))
    #expect(latex.contains("\\toprule") && latex.contains("neg\\_var\\_query.roughness"))

    let csv = tables[1].render(.csv)
    let rows = try CSV.parse(csv)
    #expect(rows[0].prefix(4) == ["ft.positive", "runs", "knn_top1", "knn_top1_ci95"])
    #expect(rows.count == 3 && rows[1][0] == "a_b & c|d" && rows[1][2] == "0.5")
    #expect(rows[1][3] == "")  // one run: no interval

    let json = Table.render(tables, .json)
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    let groups = (object?["groups"] as? [String: Any])?["rows"] as? [[String: Any]]
    #expect(groups?.count == 2)
    #expect(((groups?[1]["knn_top1"] as? [String: Any])?["mean"] as? Double) == 0.6)
    #expect(groups?[0]["ft.positive"] as? String == "a_b & c|d")
    let runRows = (object?["runs"] as? [String: Any])?["rows"] as? [[String: Any]]
    #expect(runRows?.first?["run"] as? String == "r0")
}

@Test func metricSelectorsParseAndRejectClearly() throws {
    #expect(try MetricSelector.parse("neg_var_query.drift") == [.metric(series: "neg_var_query", kind: .drift)])
    #expect(try MetricSelector.parse("pos_q50").count == MetricKind.allCases.count)
    #expect(try MetricSelector.parse("knn") == [.accuracy(.knn)])
    #expect(throws: AnalysisError.self) { try MetricSelector.parse("bogus.level") }
    #expect(throws: AnalysisError.self) { try MetricSelector.parse("pos_mean.wiggle") }
}

@Test func configsFlattenToDottedKeys() throws {
    let config = try ConfigValues(json: #"{"seed":3,"momentum":0.999,"ft":{"positive":"extrapolate","renormalize":false,"alpha":2.0},"queue":[1,2],"note":null}"#)
    #expect(config["seed"] == .number(3) && config["seed"]?.description == "3")
    #expect(config["momentum"]?.description == "0.999")
    #expect(config["ft.positive"] == .string("extrapolate"))
    #expect(config["ft.renormalize"] == .bool(false))
    #expect(config["ft.alpha"]?.description == "2")
    #expect(config["queue"] == .string("[1,2]"))
    #expect(config["note"] == .null)
    #expect(throws: AnalysisError.self) { try ConfigValues(json: "[1, 2]") }
    #expect(ConfigValue.number(0.9) < .number(0.99) && ConfigValue.number(5) < .string("a"))
}
