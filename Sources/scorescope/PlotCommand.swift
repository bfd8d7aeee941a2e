// `scorescope plot KIND RUN_DIR... --out FILE.{png,svg,pdf} [--size column|text|WxH] [--title ...] [--series ...]
// [--epochs ...] [--style ...] [--dpi N]`: one figure from run stores. Checks every option before reading any
// store; the figures themselves live in Reports.ReportFigures.
import ArgumentParser
import Foundation
import Plotting
import Reports

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw one figure from run stores as PNG, SVG or PDF.",
        discussion: "KIND is one of:\n" + FigureKind.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n")
            + "\nEach RUN_DIR is a run folder or a folder of runs (searched 3 levels deep).")

    @Argument(help: "Figure kind: \(FigureKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String

    @Argument(help: "Run folders or folders of runs.")
    var runDirectories: [String]

    @Option(help: "Output file; the extension picks the format: .png, .svg or .pdf.")
    var out: String

    @Option(help: "Page size: column (241 pt wide), text (505 pt) or WIDTHxHEIGHT in points (default: per kind).")
    var size: String?

    @Option(help: "Figure title.")
    var title: String?

    @Option(help: "Series to draw, comma-separated (curves, various-m), e.g. neg_var_query,neg_mean,pos_mean.")
    var series: [String] = []

    @Option(help: "Epochs to show, comma-separated (ridgeline, ft-shift; sphere: one epoch).")
    var epochs: [String] = []

    @Option(help: "Style: standard, or grid for various-m small multiples.")
    var style: String = "standard"

    @Option(help: "PNG resolution in dots per inch.")
    var dpi: Double = 200

    /// The parsed options (valid after `validate()`).
    func figureOptions() throws -> (FigureKind, FigureOptions) {
        let kind = try FigureKind.parse(kind)
        guard let style = FigureStyle(rawValue: style.lowercased()) else {
            throw ReportError.badOption("unknown --style '\(style)': use " + FigureStyle.allCases.map(\.rawValue).joined(separator: " or "))
        }
        let options = FigureOptions(size: try size.map { try FigureOptions.parseSize($0) }, title: title,
                                    series: try FigureOptions.parseSeries(series), epochs: try FigureOptions.parseEpochs(epochs),
                                    style: style)
        try ReportFigures.check(options, for: kind)
        return (kind, options)
    }

    func validate() throws {
        do { _ = try figureOptions() } catch { throw ValidationError("\(error)") }
        guard OutputFormat(path: out) != nil else {
            throw ValidationError("cannot tell the format of --out '\(out)': use a .png, .svg or .pdf file name")
        }
        let folder = (out as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("the folder of --out '\(out)' does not exist: create '\(parent)' first")
        }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw ValidationError("cannot write --out '\(out)': the folder '\(parent)' is not writable")
        }
        guard dpi > 0, dpi <= 2400 else { throw ValidationError("--dpi must be in (0, 2400], got \(dpi)") }
        for directory in runDirectories {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("run folder '\(directory)' does not exist")
            }
        }
    }

    func run() throws {
        let (kind, options) = try figureOptions()
        let figure = try ReportFigures.figure(kind, directories: runDirectories, options: options)
        try ReportFigures.write(figure, to: out, dpi: dpi)
        let skipped = figure.skippedPoints
        if skipped.total > 0 {
            FileHandle.standardError.write(Data(("plot: \(skipped.nonFinite) NaN/Inf values and \(skipped.outsideLogDomain) "
                + "values ≤ 0 on log axes were not drawn\n").utf8))
        }
        print(out)
    }
}
