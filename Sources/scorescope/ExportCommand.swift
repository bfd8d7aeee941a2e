// `scorescope export RUN_DIR --format csv [--out DIR]`: a run store as CSV files (steps, histograms one row per
// step/stream/bin, histogram totals, evals, events) for pandas. Logic lives in Analysis.RunExport.
import ArgumentParser
import Analysis
import Foundation
import Recording

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run store as CSV files (steps.csv, histograms.csv, histogram_totals.csv, evals.csv, events.csv).")

    @Argument(help: "The run folder (containing run.sqlite).")
    var runDirectory: String

    @Option(help: "Export format (only csv).")
    var format = "csv"

    @Option(help: "Output folder (default: RUN_DIR/export).")
    var out: String?

    @Option(help: "Keep the histograms of every n-th recorded step only.")
    var histogramEvery = 1

    func validate() throws {
        guard format == "csv" else { throw ValidationError("unknown --format '\(format)': only csv is supported") }
        guard RunReader.isRunDirectory(runDirectory) else {
            throw ValidationError("\(runDirectory) is not a run folder (no \(RunStore.fileName) in it)")
        }
        guard histogramEvery >= 1 else { throw ValidationError("--histogram-every must be at least 1") }
    }

    func run() throws {
        let output = out ?? (runDirectory as NSString).appendingPathComponent("export")
        for path in try RunExport.writeCSV(runDirectory: runDirectory, to: output, histogramEvery: histogramEvery) {
            print(path)
        }
    }
}
