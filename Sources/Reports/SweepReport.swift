// SweepReport: the report of a sweep folder (a folder of run folders, with the sweep file at DIR/sweep.json when
// present): every figure kind that applies, as PNG and SVG; the analysis tables as Markdown, CSV and LaTeX; and
// an offline index.html (HTMLIndex) showing them with the sweep's configuration.
// Which figures apply: curves and training always; various-m when two or more momenta were run; heatmap and
// ridgeline for one run per setting (the first seed; at most 8 settings, evenly chosen); ft-shift for
// settings that recorded FT streams; sphere for the setting with geometry samples and the best final kNN top-1
// (preferring one with FT); ablation when there are two or more settings with accuracies. A figure that cannot be drawn (a run lacks
// data) is listed on the page with the reason instead of failing the report.
// Deliberately not here: drawing (ReportFigures) and the analysis itself (Analysis).
import Analysis
import Foundation
import Plotting
import Recording

/// What a report wrote.
public struct ReportResult: Sendable {
    /// Path of index.html.
    public var indexPath: String
    /// Figure files written (PNG and SVG), relative to the report folder.
    public var figures: [String]
    /// Table files written, relative to the report folder.
    public var tables: [String]
    /// Figures not drawn, with the reason.
    public var skipped: [(kind: FigureKind, reason: String)]
}

/// Builds sweep reports.
public enum SweepReport {
    /// Writes the report of the sweep in `directory` to `output` (default DIR/report) and returns what it wrote.
    /// `generator` (e.g. "scorescope 0.1.0") is shown on the page. Throws `noRuns` when the folder holds no
    /// readable run and `io` when a file cannot be written.
    public static func build(directory: String, output: String? = nil, generator: String = "scorescope") throws(ReportError) -> ReportResult {
        let out = output ?? (directory as NSString).appendingPathComponent("report")
        let figuresFolder = (out as NSString).appendingPathComponent("figures")
        let tablesFolder = (out as NSString).appendingPathComponent("tables")
        for folder in [out, figuresFolder, tablesFolder] {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw .io(path: folder, reason: (error as NSError).localizedDescription)
            }
        }

        var notes: [String] = []
        let folders = RunReader.findRuns(under: directory)
        if folders.isEmpty { throw .noRuns("no run store (\(RunStore.fileName)) in '\(directory)' or its subfolders") }
        var runs: [RunSource] = []
        for folder in folders {
            do { runs.append(try RunSource(directory: folder)) } catch { notes.append("Run \(relative(folder, to: directory)) skipped: \(error)") }
        }
        if runs.isEmpty { throw .noRuns("none of the \(folders.count) runs in '\(directory)' could be read") }

        // Analysis and tables.
        var analyses: [RunAnalysis] = []
        for run in runs {
            do { analyses.append(try RunAnalyzer.analyze(directory: run.directory)) } catch {
                notes.append("Run \(run.name) left out of the tables: \(error)")
            }
        }
        var tables: [Table] = []
        var analysis: SweepAnalysis?
        if !analyses.isEmpty {
            let sweep = SweepAnalysis(runs: analyses)
            analysis = sweep
            tables = [sweep.runsTable(), sweep.groupsTable(), sweep.correlationsTable()]
            if let keys = ReportFigures.ablationKeys(analyses), keys != sweep.groupKeys {
                var table = SweepAnalysis(runs: analyses, groupBy: keys).groupsTable()
                table.id = "ablation"
                table.title = "FT ablation (mean ± 95 % t-interval over seeds)"
                tables.append(table)
            }
        }
        var tableFiles: [String] = []
        func write(_ text: String, _ name: String) throws(ReportError) {
            let path = (tablesFolder as NSString).appendingPathComponent(name)
            do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
                throw .io(path: path, reason: (error as NSError).localizedDescription)
            }
            tableFiles.append("tables/" + name)
        }
        if !tables.isEmpty {
            try write(Table.render(tables, .markdown), "tables.md")
            try write(Table.render(tables, .latex), "tables.tex")
            for table in tables { try write(table.render(.csv), "\(table.id).csv") }
        }

        // Figures.
        let (styles, order) = RunStyling.styles(runs)
        let leaders = order.filter { styles[$0].leadsGroup }.map { runs[$0] }
        let momenta = Set(runs.compactMap(\.momentum))
        var plans: [(FigureKind, [RunSource], String)] = []
        plans.append((.curves, runs, ""))
        if momenta.count >= 2 { plans.append((.variousM, runs, "")) }
        let heat = pick(leaders, at: 8), ridge = pick(leaders, at: 8)
        plans.append((.heatmap, heat, heat.count < leaders.count ? "\(heat.count) of \(leaders.count) settings. " : ""))
        plans.append((.ridgeline, ridge, ridge.count < leaders.count ? "\(ridge.count) of \(leaders.count) settings. " : ""))
        let transformed = leaders.filter(\.hasTransformedStreams)
        if !transformed.isEmpty { plans.append((.ftShift, Array(transformed.prefix(4)), "")) }
        plans.append((.training, runs, ""))
        let sampled = leaders.filter { (try? $0.reader.sampleSteps().isEmpty == false) ?? false }
        // The geometry of the best-trained setting with samples (FT runs first): a collapsed run's vectors all
        // coincide and show nothing.
        let byAccuracy = sampled.sorted { ($0.finalKnnTop1 ?? -1) > ($1.finalKnnTop1 ?? -1) }
        if let geometry = byAccuracy.first(where: \.hasTransformedStreams) ?? byAccuracy.first { plans.append((.sphere, [geometry], "")) }
        if let analysis, analysis.groups.count >= 2 { plans.append((.ablation, runs, "")) }

        var figureFiles: [String] = []
        var indexFigures: [IndexFigure] = []
        var skipped: [(kind: FigureKind, reason: String)] = []
        for (kind, members, prefix) in plans {
            do throws(ReportError) {
                let figure: Figure
                if kind == .ablation, let analysis {
                    figure = try ReportFigures.ablation(SweepAnalysis(runs: analysis.runs, groupBy: ReportFigures.ablationKeys(analysis.runs)))
                } else {
                    figure = try ReportFigures.figure(kind, runs: members)
                }
                for format in ["png", "svg"] {
                    try ReportFigures.write(figure, to: (figuresFolder as NSString).appendingPathComponent("\(kind.fileStem).\(format)"))
                    figureFiles.append("figures/\(kind.fileStem).\(format)")
                }
                let names = members.count < runs.count && kind != .ablation ? " Runs: " + members.map(\.name).joined(separator: ", ") + "." : ""
                indexFigures.append(IndexFigure(title: title(kind), caption: prefix + caption(kind) + names,
                                                image: "figures/\(kind.fileStem).png",
                                                downloads: [("SVG", "figures/\(kind.fileStem).svg"), ("PNG", "figures/\(kind.fileStem).png")]))
            } catch {
                skipped.append((kind, error.description))
                notes.append("Figure \(kind.rawValue) not drawn: \(error.description)")
            }
        }

        // The page.
        let sweepFile = (directory as NSString).appendingPathComponent("sweep.json")
        let sweepText = try? String(contentsOfFile: sweepFile, encoding: .utf8)
        let sweep = sweepText.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let name = (sweep?["name"] as? String) ?? (directory as NSString).lastPathComponent
        var configuration = sweepText ?? ""
        if configuration.isEmpty, let json = try? runs[0].reader.configJSON(),
           let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
            configuration = "// resolved config of \(runs[0].name) (no sweep.json in the folder)\n" + String(decoding: pretty, as: UTF8.self)
        }
        var facts: [(String, String)] = [("runs", String(runs.count)), ("settings", String(leaders.count))]
        let lastSteps = runs.compactMap { $0.stepRange?.upperBound }
        if let low = lastSteps.min(), let high = lastSteps.max() {
            facts.append(("steps", low == high ? "\(high) per run" : "\(low)…\(high)"))
        }
        var statuses: [String: Int] = [:]
        for run in runs { statuses[(try? run.reader.status())?.rawValue ?? "unknown", default: 0] += 1 }
        facts.append(("status", statuses.keys.sorted().map { "\(statuses[$0]!) \($0)" }.joined(separator: ", ")))
        facts.append(("generated by", generator))
        let indexTables = tables.map { table in
            IndexTable(title: table.title, header: table.columns, rows: table.rows.map { $0.map(cellText) },
                       downloads: [("CSV", "tables/\(table.id).csv"), ("Markdown", "tables/tables.md"), ("LaTeX", "tables/tables.tex")])
        }
        let page = HTMLIndex(title: name, description: (sweep?["description"] as? String) ?? "", facts: facts,
                             tables: indexTables, figures: indexFigures, configuration: configuration, notes: notes).render()
        let indexPath = (out as NSString).appendingPathComponent("index.html")
        do { try page.write(toFile: indexPath, atomically: true, encoding: .utf8) } catch {
            throw .io(path: indexPath, reason: (error as NSError).localizedDescription)
        }
        return ReportResult(indexPath: indexPath, figures: figureFiles, tables: tableFiles, skipped: skipped)
    }

    /// Up to `count` of `items`, evenly spaced, keeping the first and the last.
    static func pick<T>(_ items: [T], at count: Int) -> [T] {
        ReportFigures.evenlySpaced(Array(items.indices), count: count).map { items[$0] }
    }

    static func relative(_ path: String, to base: String) -> String {
        path.hasPrefix(base + "/") ? String(path.dropFirst(base.count + 1)) : path
    }

    /// A table cell as page text: 4 significant digits, intervals as "mean ± half-width", "–" for missing.
    static func cellText(_ cell: TableCell) -> String {
        func number(_ d: Double) -> String {
            d.isNaN ? "–" : d.isInfinite ? (d > 0 ? "∞" : "−∞") : String(format: "%.4g", d)
        }
        switch cell {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return number(d)
        case .interval(let ci):
            if ci.mean.isNaN { return "–" }
            return ci.halfWidth.isNaN ? number(ci.mean) : "\(number(ci.mean)) ± \(number(ci.halfWidth))"
        case .config(let value): return value.description
        case .empty: return "–"
        }
    }

    static func title(_ kind: FigureKind) -> String {
        switch kind {
        case .curves: return "Score statistics over training"
        case .variousM: return "Various momenta (3-D view)"
        case .heatmap: return "Score distributions over training"
        case .ridgeline: return "Score distributions at chosen epochs"
        case .ftShift: return "Scores before and after the feature transformations"
        case .training: return "Loss, gradient norm and kNN accuracy"
        case .sphere: return "Feature-transformation geometry"
        case .ablation: return "Top-1 accuracy per setting"
        }
    }

    static func caption(_ kind: FigureKind) -> String {
        switch kind {
        case .curves:
            return "Negative-score variance per query (mean over queries of the variance over the K negatives), negative mean "
                + "and positive mean against the iteration, one line per run. Legend: momentum (or setting) | final kNN top-1 (%). "
                + "Long runs show the min–max range per pixel column (shaded) around the column mean. Dotted: queue filled; "
                + "dashed: LR drop; dash-dot: FT start."
        case .variousM:
            return "The same three series as ribbons along a depth axis ordered by momentum (largest in front), after the paper's "
                + "'various m' figure; the first run of each setting."
        case .heatmap:
            return "Density of the positive and negative scores (and after FT, when recorded) over training, from the stored "
                + "histograms summed per pixel column; log colour scale over three decades; one column per setting. "
                + "Dotted: queue filled; dashed: LR drop; dash-dot: FT start."
        case .ridgeline:
            return "Positive and negative score densities at five evenly spaced epochs, each summed over the epoch's steps."
        case .ftShift:
            return "Positive and negative score densities before (grey, cosines) and after the feature transformations "
                + "(the scores that enter the logits) at five evenly spaced epochs."
        case .training:
            return "InfoNCE loss and query-encoder gradient norm against the iteration (log scales) and kNN top-1 per epoch."
        case .sphere:
            return "Geometry of the feature transformations from stored vector samples: left, a query/key pair in its own plane "
                + "with the extrapolated pair on the line through them; right, a queue row, its interpolation partner and the "
                + "mixed row inside the unit circle."
        case .ablation:
            return "Top-1 accuracy (%) per setting: mean over the setting's runs with 95 % t-interval error bars."
        }
    }
}
