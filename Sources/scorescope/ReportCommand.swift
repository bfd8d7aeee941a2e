// `scorescope report DIR [--out DIR]`: the report of a sweep folder (every figure kind that applies as PNG and
// SVG, the analysis tables as Markdown/CSV/LaTeX, and an offline index.html); prints the path of index.html.
// The report itself is Reports.SweepReport.
import ArgumentParser
import Foundation
import Recording
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the figures, tables and index.html of a sweep folder; print the index path.",
        discussion: "DIR is a folder of run folders (searched 3 levels deep), with the sweep file at DIR/sweep.json when present.")

    @Argument(help: "The sweep folder.")
    var directory: String

    @Option(help: "Report folder (default: DIR/report).")
    var out: String?

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("'\(directory)' is not a folder")
        }
        guard !RunReader.findRuns(under: directory).isEmpty else {
            throw ValidationError("no run store (\(RunStore.fileName)) in '\(directory)' or the folders below it")
        }
        if let out {
            var outIsFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &outIsFolder), !outIsFolder.boolValue {
                throw ValidationError("--out '\(out)' exists and is not a folder")
            }
        }
    }

    func run() throws {
        let result = try SweepReport.build(directory: directory, output: out, generator: "scorescope \(scorescopeVersion)")
        for (kind, reason) in result.skipped {
            FileHandle.standardError.write(Data("report: \(kind.rawValue) not drawn: \(reason)\n".utf8))
        }
        print(result.indexPath)
    }
}
