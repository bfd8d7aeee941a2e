// Every figure kind drawn from the test stores, checked through the recording renderer: panels, legend texts,
// marker labels, ribbons, rasters, notes; and the clear errors for runs that lack what a kind needs.
import Foundation
import GRDB
import Plotting
import Recording
import Testing
@testable import Reports

@Test func curvesDrawOneLinePerRunInEachOfThreePanelsWithMomentumAndAccuracyLegends() throws {
    let fixtures = try Fixtures.load()
    let runs = try fixtures.momentumSources()
    let figure = try ReportFigures.curves(runs)
    #expect(figure.allAxes.map(\.title) == ["neg variance (per query)", "neg mean", "pos mean"])
    let drawn = record(figure)
    // 300 points per run: plain polylines (no envelope), one per run and panel, at the curves' width.
    let lines = drawn.strokes.filter { $0.style.width == 0.9 && $0.path.points.count == 300 }
    #expect(lines.count == runs.count * 3)
    // One legend entry per setting: the two 0.99 seeds share one, with their mean final kNN top-1.
    func top1(_ name: String) throws -> Double {
        try #require(runs.first { $0.name == name }?.finalKnnTop1)
    }
    let expected = [
        "m=0.9 | " + String(format: "%.1f", try top1("m0.9-s1")),
        "m=0.99 | " + String(format: "%.1f", (try top1("m0.99-s1") + top1("m0.99-s2")) / 2) + " (2 runs)",
        "m=0.999 | " + String(format: "%.1f", try top1("m0.999-s1")),
    ]
    #expect(figure.allAxes[0].legendEntries.map(\.label) == expected)
    let strings = drawn.texts.map(\.string)
    for label in expected { #expect(strings.contains(label)) }
    // Markers from the events: queue filled once per panel, two LR drops per panel; FT start is at step 1 (left out).
    #expect(strings.filter { $0 == "queue filled" }.count == 3)
    #expect(strings.filter { $0 == "LR drop" }.count == 6)
    #expect(!strings.contains("FT start"))
}

@Test func curvesWithOneSeriesGiveOneLabelledPanel() throws {
    let runs = try Fixtures.load().momentumSources()
    let figure = try ReportFigures.curves(runs, options: FigureOptions(series: [.negativeMean]))
    #expect(figure.allAxes.count == 1)
    #expect(figure.allAxes[0].yLabel == "neg mean")
    #expect(figure.width == FigureSize.columnWidth)
}

@Test func variousMomentaDrawOneRibbonPerSettingOrderedByMomentum() throws {
    let runs = try Fixtures.load().momentumSources()
    let figure = try ReportFigures.variousMomenta(runs)
    #expect(figure.allAxes.count == 3)
    let strings = texts(figure)
    for depth in ["0.9", "0.99", "0.999"] { #expect(strings.filter { $0 == depth }.count == 3) }
    #expect(strings.filter { $0 == "momentum m" }.count == 3)

    let grid = try ReportFigures.variousMomenta(runs, options: FigureOptions(style: .grid))
    #expect(grid.rows == 3 && grid.columns == 3)
    // Largest momentum first, as in the 3-D view's front-to-back order.
    #expect(grid.allAxes.prefix(3).map(\.title) == ["m=0.999", "m=0.99", "m=0.9"])
    #expect(grid.allAxes.map(\.yLabel).compactMap { $0 } == ["neg variance (per query)", "neg mean", "pos mean"])
}

@Test func heatmapDrawsOneRasterPerRunAndStreamWithASharedColourBar() throws {
    let runs = try Fixtures.load().momentumSources()
    let figure = try ReportFigures.heatmap(runs)
    // Four runs across, four streams down (FT streams recorded).
    #expect(figure.rows == 4 && figure.columns == 4)
    let drawn = record(figure)
    let rasters = drawn.images.filter { $0.image.width > 1 }
    #expect(rasters.count == 16)
    // Never more columns than steps; the colour bar is the one 1-pixel-wide raster.
    #expect(rasters.allSatisfy { $0.image.width <= 300 })
    #expect(drawn.images.filter { $0.image.width == 1 }.count == 1)
    let strings = drawn.texts.map(\.string)
    #expect(strings.contains("density"))
    #expect(strings.contains("pos cosine score") && strings.contains("neg after FT score"))
    #expect(!strings.contains("queue filled"))   // lines only in a grid of runs (labels would pile up)
    #expect(texts(try ReportFigures.heatmap([runs[0]])).filter { $0 == "queue filled" }.count == 4)
}

@Test func heatmapColumnsSumEveryStepsCountsExactly() throws {
    let run = try RunSource(directory: try Fixtures.load().momentumRuns[1])
    let reader = try RunReader(directory: run.directory)
    #expect(reader.hasHistogramBlocks)
    // 300 steps in 7 columns: 48 steps (3 blocks) per column on the block grid, the last column cut at step 300,
    // so the sums come from the blocks except for steps 289…300 (not a whole block).
    let (sums, edges, range) = try HistogramSums.columns(run, streams: [.positive, .negative], columns: 7)
    #expect(edges == (0...7).map { 0.5 + Double($0 * 48) } && range == 0.5...300.5)
    // 300 steps in 40 columns: fewer than a block per column, so equal slices of 7 or 8 steps, read row by row.
    let (fine, fineEdges, _) = try HistogramSums.columns(run, streams: [.positive], columns: 40)
    #expect(fineEdges.count == 41 && fineEdges.first == 0.5 && fineEdges.last == 300.5)
    for (stream, columns, slot, result) in [(ScoreStream.positive, 7, { (step: Int) in (step - 1) / 48 }, sums),
                                            (.negative, 7, { (step: Int) in (step - 1) / 48 }, sums),
                                            (.positive, 40, { (step: Int) in (step - 1) * 40 / 300 }, fine)] {
        let s = try #require(result[stream])
        var expected = [UInt64](repeating: 0, count: columns * s.bins)
        var totals = [Double](repeating: 0, count: columns), rows = [Int](repeating: 0, count: columns)
        for h in try reader.histograms(stream) {
            let column = slot(h.step)
            for (b, c) in h.histogram.counts.enumerated() { expected[column * s.bins + b] += UInt64(c) }
            totals[column] += Double(h.histogram.count)
            rows[column] += 1
        }
        #expect(s.counts == expected)
        #expect(s.totals == totals)
        #expect(s.rows == rows)
        // A density integrates to the share of values inside the edges (1 for cosines), to rounding.
        let integral = s.density(3).reduce(0, +) * s.binWidth
        #expect(abs(integral - 1) < 1e-9)
    }
}

@Test func histogramSumsAreTheSameFromBlocksRowsAndAnyMixOfThem() throws {
    let run = try RunSource(directory: try Fixtures.load().momentumRuns[1])
    let reader = try RunReader(directory: run.directory)
    // Slots that cut blocks, hold whole ones, leave gaps and end mid-block; each stream summed from its rows.
    let slots = [1...16, 17...40, 41...41, 60...95, 96...160, 200...287, 288...300]
    let streams = ScoreStream.allCases
    let sums = try HistogramSums.sum(run, streams: streams, slots: slots)
    let halves = try [0..<3, 3..<7].map { try HistogramSums.sum(reader, streams: streams, slots: slots, active: $0) }
    for stream in try reader.streams() {
        let s = try #require(sums[stream])
        var expected = [UInt64](repeating: 0, count: slots.count * s.bins)
        var totals = [Double](repeating: 0, count: slots.count)
        for h in try reader.histograms(stream) {
            guard let slot = slots.firstIndex(where: { $0.contains(h.step) }) else { continue }
            for (b, c) in h.histogram.counts.enumerated() { expected[slot * s.bins + b] += UInt64(c) }
            totals[slot] += Double(h.histogram.count)
        }
        #expect(s.counts == expected, "\(stream)")
        #expect(s.totals == totals, "\(stream)")
        let a = try #require(halves[0][stream]), b = try #require(halves[1][stream])
        #expect(zip(a.counts, b.counts).map { $0 &+ $1 } == expected, "\(stream)")
    }
}

@Test func epochSumsFollowTheAskedOrderAndLayoutsNeverTrap() throws {
    let run = try RunSource(directory: try Fixtures.load().momentumRuns[1])
    let ranges = try run.epochRanges()
    let picked = [ranges[6], ranges[1], ranges[3]]             // out of order, as `--epochs 7,2,4` asks
    let sums = try HistogramSums.epochs(run, streams: [.negative], epochs: picked)
    let one = try picked.map { try HistogramSums.sum(run, streams: [.negative], slots: [$0.steps]) }
    let s = try #require(sums[.negative])
    for (slot, single) in one.enumerated() {
        let t = try #require(single[.negative])
        #expect(Array(s.counts[slot * s.bins..<(slot + 1) * s.bins]) == t.counts)
        #expect(s.totals[slot] == t.totals[0] && s.rows[slot] == t.rows[0] && t.rows[0] > 0)
    }
    #expect(texts(try ReportFigures.ridgeline([run], options: FigureOptions(epochs: [7, 2, 4])))
        .filter { $0.hasPrefix("epoch ") } == ["epoch 7", "epoch 2", "epoch 4"])
    // Overlapping or descending ranges are an error, not a trap; so is no column at all.
    #expect(throws: ReportError.self) { try HistogramSums.sum(run, streams: [.negative], slots: [10...20, 15...30]) }
    #expect(throws: ReportError.self) { try HistogramSums.sum(run, streams: [.negative], slots: [40...50, 1...5]) }
    #expect(HistogramSums.columnLayout(first: 1, last: 300, wanted: 0).slots == [1...300])
}

@Test func stepsOutsideTheBlocksUsedAreReadAsMaximalRuns() {
    let slots: ArraySlice<ClosedRange<Int>> = [1...40, 41...41, 60...95]
    // Blocks 1…16 (inside slot 0) and 65…80 (inside slot 2): the rest, with touching slots merged.
    #expect(HistogramSums.uncovered(slots, by: [1...16, 65...80]) == [17...41, 60...64, 81...95])
    #expect(HistogramSums.uncovered(slots, by: []) == [1...41, 60...95])
    #expect(HistogramSums.uncovered([1...16], by: [1...16]).isEmpty)
}

@Test func aVersion1StoreGivesTheSameHeatmapColumnsRowByRow() throws {
    let source = try Fixtures.load().momentumRuns[1]
    let copy = FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-v1-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: copy) }
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: source + "/run.sqlite", toPath: copy + "/run.sqlite")
    try DatabaseQueue(path: copy + "/run.sqlite").write { db in
        try db.execute(sql: "DROP TABLE histogram_blocks")
        try db.execute(sql: "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    }
    let old = try RunSource(directory: copy), new = try RunSource(directory: source)
    #expect(!old.reader.hasHistogramBlocks && new.reader.hasHistogramBlocks)
    let a = try HistogramSums.columns(old, streams: ScoreStream.allCases, columns: 7)
    let b = try HistogramSums.columns(new, streams: ScoreStream.allCases, columns: 7)
    #expect(a.xEdges == b.xEdges && a.xRange == b.xRange)
    for stream in ScoreStream.allCases {
        #expect(a.sums[stream]?.counts == b.sums[stream]?.counts && a.sums[stream]?.totals == b.sums[stream]?.totals)
    }
}

@Test func ridgelineShowsFiveEvenlySpacedEpochsOrTheChosenOnes() throws {
    let fixtures = try Fixtures.load()
    let run = try RunSource(directory: fixtures.momentumRuns[1])
    let strings = texts(try ReportFigures.ridgeline([run]))
    #expect(strings.filter { $0.hasPrefix("epoch ") } == ["epoch 1", "epoch 3", "epoch 6", "epoch 8", "epoch 10"])
    #expect(strings.contains("pos") && strings.contains("neg") && strings.contains("cosine score"))

    let chosen = texts(try ReportFigures.ridgeline([run], options: FigureOptions(epochs: [2, 4])))
    #expect(chosen.filter { $0.hasPrefix("epoch ") } == ["epoch 2", "epoch 4"])

    #expect(throws: ReportError.self) { try ReportFigures.ridgeline([run], options: FigureOptions(epochs: [99])) }
    do {
        _ = try ReportFigures.ridgeline([run], options: FigureOptions(epochs: [99]))
    } catch {
        #expect(error.description.contains("no epoch 99") && error.description.contains("m0.99-s1"))
    }
}

@Test func ridgelineOfSeveralRunsFillsABalancedGridAndHidesTheSpareSlot() throws {
    let runs = try Fixtures.load().momentumSources()
    let figure = try ReportFigures.ridgeline(runs + [runs[0]])   // 5 panels → 3 + 2
    #expect(figure.rows == 2 && figure.columns == 3)
    #expect(figure.allAxes.filter(\.isHidden).count == 1)
}

@Test func featureTransformShiftComparesEachStreamBeforeAndAfter() throws {
    let fixtures = try Fixtures.load()
    let run = try RunSource(directory: fixtures.momentumRuns[0])
    let figure = try ReportFigures.featureTransformShift([run])
    #expect(figure.allAxes.map(\.title) == ["positives", "negatives"])
    let labels = figure.allAxes.flatMap(\.legendEntries).map(\.label)
    #expect(labels == ["pos (cosine)", "pos after FT", "neg (cosine)", "neg after FT"])

    let withoutFT = try RunSource(directory: fixtures.ablationSweep + "/base-s1")
    #expect(!withoutFT.hasTransformedStreams)
    do {
        _ = try ReportFigures.featureTransformShift([withoutFT])
        Issue.record("ft-shift drew a run without FT streams")
    } catch {
        #expect(error.description.contains("base-s1") && error.description.contains("pos_ft"))
    }
}

@Test func trainingShowsLossGradientAndAccuracyOrANoteWithoutEvaluations() throws {
    let fixtures = try Fixtures.load()
    let figure = try ReportFigures.training(try fixtures.momentumSources())
    #expect(figure.allAxes.map(\.title) == ["loss", "gradient norm", "kNN top-1 (%)"])
    #expect(figure.allAxes[0].yScale == .log && figure.allAxes[1].yScale == .log)
    #expect(figure.allAxes[2].legendEntries.count == 3)

    let bare = try ReportFigures.training([try RunSource(directory: fixtures.bare)])
    #expect(texts(bare).contains("no kNN evaluations recorded"))
    #expect(bare.allAxes[2].legendEntries.isEmpty)
}

@Test func sphereLabelsEveryVectorOfTheTransformations() throws {
    let fixtures = try Fixtures.load()
    let run = try RunSource(directory: fixtures.momentumRuns[1])
    let figure = try ReportFigures.sphere([run])
    let strings = texts(figure)
    for label in ["z_q", "z_k", "ẑ_q", "ẑ_k", "n_j", "n_π(j)", "n̂_j"] { #expect(strings.contains(label), "missing \(label)") }
    #expect(strings.contains("positive extrapolation (step 300)"))
    // Square plot areas: the unit circle stays round.
    let layout = figure.layout(measuringWith: RecordingRenderer())
    for placed in layout.axes { #expect(abs(placed.plot.width - placed.plot.height) < 1) }
    // An earlier epoch picks that epoch's last sample.
    #expect(texts(try ReportFigures.sphere([run], options: FigureOptions(epochs: [4]))).contains("positive extrapolation (step 100)"))
}

@Test func sphereGeometryPutsTheQueryOnTheAxisAndTheMixedNegativeInsideTheCircle() {
    let q = [1.0, 2, 2].map { $0 / 3 }, k = [2.0, 1, -2].map { $0 / 3 }
    let basis = ReportFigures.planeBasis(q, k)!
    let pq = ReportFigures.project(q, basis), pk = ReportFigures.project(k, basis)
    #expect(abs(pq.0 - 1) < 1e-12 && abs(pq.1) < 1e-12)
    #expect(abs(pk.0 * pk.0 + pk.1 * pk.1 - 1) < 1e-12)   // k lies in the plane: unit length kept
    let mixed = zip(q, k).map { 0.5 * $0 + 0.5 * $1 }
    let pm = ReportFigures.project(mixed, basis)
    #expect(pm.0 * pm.0 + pm.1 * pm.1 < 1)
    #expect(ReportFigures.planeBasis(q, q) == nil)
}

@Test func ablationBarsGroupByTheFeatureTransformKeysThatVary() throws {
    let fixtures = try Fixtures.load()
    let figure = try ReportFigures.ablation(try RunSource.open([fixtures.ablationSweep]))
    let axes = figure.allAxes[0]
    #expect(axes.legendEntries.map(\.label) == ["kNN top-1", "linear top-1"])
    #expect(axes.xLabel == "ft.negative, ft.positive")
    let strings = texts(figure)
    #expect(strings.contains("none, none") && strings.contains("interpolate, extrapolate"))
    #expect(strings.contains("top-1 accuracy (%)"))
}

@Test func storesWithoutHistogramsSamplesOrStepsGiveClearErrors() throws {
    let fixtures = try Fixtures.load()
    let bare = try RunSource(directory: fixtures.bare)
    for (kind, fragment) in [(FigureKind.heatmap, "pos/neg histograms"), (.ridgeline, "pos/neg histograms"),
                             (.ftShift, "pos/neg/pos_ft/neg_ft histograms"), (.sphere, "no geometry samples")] {
        do {
            _ = try ReportFigures.figure(kind, runs: [bare])
            Issue.record("\(kind.rawValue) drew a store without the data it needs")
        } catch {
            #expect(error.description.contains(fragment), "\(kind.rawValue): \(error.description)")
            #expect(error.description.contains("run 'run'"))
        }
    }
    // Curves need only steps.
    #expect(try ReportFigures.curves([bare]).allAxes.count == 3)
    #expect(throws: ReportError.noRuns("no run store (run.sqlite) in '\(fixtures.momentumSweep)/nope'")) {
        _ = try RunSource(directory: fixtures.momentumSweep + "/nope")
    }
}

@Test func optionsThatDoNotApplyToAKindAreRefused() {
    #expect(throws: ReportError.self) { try ReportFigures.check(FigureOptions(series: [.loss]), for: .heatmap) }
    #expect(throws: ReportError.self) { try ReportFigures.check(FigureOptions(epochs: [1]), for: .curves) }
    #expect(throws: ReportError.self) { try ReportFigures.check(FigureOptions(style: .grid), for: .curves) }
    #expect(throws: ReportError.self) { try ReportFigures.check(FigureOptions(epochs: [1, 2]), for: .sphere) }
    #expect(throws: Never.self) { try ReportFigures.check(FigureOptions(series: [.loss], style: .grid), for: .variousM) }
}

@Test func optionTextsParseOrNameWhatIsWrong() throws {
    #expect(try FigureOptions.parseSize("column") == .column)
    #expect(try FigureOptions.parseSize("TEXT") == .text)
    #expect(try FigureOptions.parseSize("400x250") == .points(width: 400, height: 250))
    #expect(throws: ReportError.self) { try FigureOptions.parseSize("12x9") }
    #expect(throws: ReportError.self) { try FigureOptions.parseSize("wide") }
    #expect(try FigureOptions.parseSeries(["neg-var,pos_mean", "loss"]) == [.negativeVarianceQuery, .positiveMean, .loss])
    do {
        _ = try FigureOptions.parseSeries(["bogus"])
        Issue.record("a bogus series parsed")
    } catch {
        #expect(error.description.contains("unknown series 'bogus'") && error.description.contains("neg_var_query"))
    }
    #expect(try FigureOptions.parseEpochs(["1,5", "10"]) == [1, 5, 10])
    #expect(throws: ReportError.self) { try FigureOptions.parseEpochs(["-1"]) }
    #expect(try FigureKind.parse("FT-SHIFT") == .ftShift)
    #expect(throws: ReportError.badOption("unknown figure kind 'pie': use one of curves, various-m, heatmap, ridgeline, ft-shift, training, sphere, ablation")) {
        _ = try FigureKind.parse("pie")
    }
}

@Test func writingToAnUnknownExtensionOrAMissingFolderFailsClearly() throws {
    let figure = try ReportFigures.curves([try RunSource(directory: try Fixtures.load().bare)])
    #expect(throws: ReportError.self) { try ReportFigures.write(figure, to: "/tmp/figure.bmp") }
    do {
        try ReportFigures.write(figure, to: "/nonexistent-folder-xyz/figure.png")
        Issue.record("wrote into a missing folder")
    } catch {
        #expect(error.description.contains("nonexistent-folder-xyz"))
    }
}

@Test func knnPointsCountEpochsTrainedWhateverTheEpochNumbering() throws {
    // A trainer numbering epochs from 0, with an evaluation before the first step and one after each epoch.
    let folder = try scratchFolder("epochs-from-zero")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder, durability: .crashSafe)
    let scores = ScoreStatistics(positiveMean: 0.5, positiveVariance: 0.02, negativeMean: 0, negativeVarianceQuery: 0.02,
                                 negativeVarianceAll: 0.02)
    for step in 1...20 {
        try store.record(step: StepRecord(step: step, epoch: (step - 1) / 10, learningRate: 0.1, momentum: 0.99, loss: 8,
                                          instanceAccuracy: 0, gradientNorm: 1, scores: scores, milliseconds: 1))
    }
    for (step, epoch, top1) in [(0, 0, 40.0), (10, 0, 55.0), (20, 1, 60.0)] {
        try store.addEval(EvalRecord(step: step, epoch: epoch, kind: .knn, top1: top1))
    }
    try store.addEvent(step: 15, kind: .learningRateDrop)
    try store.close()
    let run = try RunSource(directory: folder)
    let points = try ReportFigures.knnPoints(run)
    #expect(points.map(\.epochs) == [0, 1, 2])
    #expect(points.map(\.top1) == [40, 55, 60])
    // The LR drop at step 15 sits halfway through the second epoch on the accuracy panel.
    let figure = try ReportFigures.training([run])
    let drawn = record(figure)
    #expect(drawn.texts.filter { $0.string == "LR drop" }.count == 3)
}
