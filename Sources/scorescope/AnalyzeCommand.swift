// `scorescope analyze DIR... [--format md|csv|latex|json] [--metric ...] [--group-by key ...]`: stability
// metrics of the pos/neg score statistics per run and per setting (mean ± 95 % t-interval over seeds), and their
// rank correlation with accuracy. Logic lives in the Analysis module; this file parses, wires and prints.
import ArgumentParser
import Analysis
import Foundation
import Recording

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Stability of the pos/neg score statistics per run and per setting, next to accuracy.",
        discussion: """
        Each DIR is a run folder or a folder of runs (searched 3 levels deep). Runs are grouped by every config key
        that varies between them except seed-like keys, or by the --group-by keys (e.g. --group-by ft.positive
        --group-by ft.negative for the FT ablation table). Metrics: SERIES.METRIC with SERIES one of pos_mean,
        pos_var, neg_mean, neg_var_query, neg_var_all, loss or a histogram quantile such as pos_q50 / neg_q95, and
        METRIC one of level, drift (per 1k steps), roughness, excursion, spread; a bare SERIES selects all five.
        """)

    @Argument(help: "Run folders or folders of runs.")
    var directories: [String]

    @Option(help: "Output format: md, csv, latex or json.")
    var format: String = "md"

    @Option(name: .customLong("metric"), help: "A metric column (repeatable; default: level and roughness of pos_mean, neg_mean, neg_var_query, and neg_var_query drift).")
    var metrics: [String] = []

    @Option(name: .customLong("group-by"), help: "A dotted config key to group runs by (repeatable; default: every varying non-seed key).")
    var groupBy: [String] = []

    @Option(help: "First analysed step (default: the step of the queue_filled event, else the first step).")
    var warmup: Int?

    @Option(help: "Rolling-median window in points for the excursion.")
    var window = 25

    @Option(help: "Number of blocks for the spread across windows and the collapse check.")
    var blocks = 5

    @Option(help: "Which table to print: runs, groups, correlations or all.")
    var table = "all"

    func validate() throws {
        guard TableFormat(rawValue: format) != nil else {
            throw ValidationError("unknown --format '\(format)': use md, csv, latex or json")
        }
        guard ["runs", "groups", "correlations", "all"].contains(table) else {
            throw ValidationError("unknown --table '\(table)': use runs, groups, correlations or all")
        }
        guard window >= 1 else { throw ValidationError("--window must be at least 1") }
        guard blocks >= 2 else { throw ValidationError("--blocks must be at least 2") }
        for metric in metrics {
            do { _ = try MetricSelector.parse(metric) } catch { throw ValidationError("\(error)") }
        }
        for directory in directories where !FileManager.default.fileExists(atPath: directory) {
            throw ValidationError("\(directory) does not exist")
        }
    }

    func run() throws {
        var folders: [String] = []
        for directory in directories {
            for run in RunReader.findRuns(under: directory) where !folders.contains(run) { folders.append(run) }
        }
        guard !folders.isEmpty else {
            throw ValidationError("no run store (\(RunStore.fileName)) in \(directories.joined(separator: ", "))")
        }
        let options = AnalysisOptions(warmupStep: warmup, rollingWindow: window, windowCount: blocks)
        var runs: [RunAnalysis] = []
        for folder in folders {
            do { runs.append(try RunAnalyzer.analyze(directory: folder, options: options)) } catch {
                FileHandle.standardError.write(Data("analyze: skipping \(folder): \(error)\n".utf8))
            }
        }
        guard !runs.isEmpty else { throw ValidationError("none of the runs could be read") }
        let selectors = metrics.isEmpty ? MetricSelector.defaults : try metrics.flatMap { try MetricSelector.parse($0) }
        let sweep = SweepAnalysis(runs: runs, groupBy: groupBy.isEmpty ? nil : groupBy, metrics: selectors)
        var tables: [Table] = []
        if table == "all" || table == "runs" { tables.append(sweep.runsTable()) }
        if table == "all" || table == "groups" { tables.append(sweep.groupsTable()) }
        if table == "all" || table == "correlations" { tables.append(sweep.correlationsTable()) }
        print(Table.render(tables, TableFormat(rawValue: format) ?? .markdown), terminator: "")
    }
}
