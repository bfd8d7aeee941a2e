// `scorescope inspect DIR [--json]`: the state of a run (status, steps, last losses and scores, evaluations,
// events), or one line per run for a folder of runs. Reads only; works while the run is training.
// Not here: any analysis (see `analyze`) or change to the store.
import ArgumentParser
import Foundation
import Recording

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the status, steps, latest scores, evaluations and events of a run (or of every run in a folder).")

    @Argument(help: "A run folder (containing run.sqlite) or a folder of runs.")
    var directory: String

    @Flag(help: "Print JSON instead of text (non-finite numbers as \"nan\", \"inf\", \"-inf\").")
    var json = false

    @Option(help: "How many of the last steps to show for a single run.")
    var steps = 3

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory) is not a folder")
        }
        guard steps >= 0 else { throw ValidationError("--steps must be 0 or more") }
    }

    func run() throws {
        let runs = RunReader.findRuns(under: directory)
        guard !runs.isEmpty else {
            throw ValidationError("no run store (\(RunStore.fileName)) in \(directory) or the folders below it")
        }
        let single = runs == [directory]
        var overviews: [RunOverview] = []
        var failures: [(String, String)] = []
        for run in runs {
            do { overviews.append(try RunReader(directory: run).overview(recentSteps: single ? steps : 1)) }
            catch { failures.append((run, "\(error)")) }
        }
        if single, let failure = failures.first { throw RecordingError.io(path: failure.0, message: failure.1) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                          negativeInfinity: "-inf", nan: "nan")
            let data = single ? try encoder.encode(overviews[0]) : try encoder.encode(overviews)
            print(String(decoding: data, as: UTF8.self))
        } else if single {
            print(describe(overviews[0]))
        } else {
            print(["run", "status", "steps", "loss", "pos_mean", "neg_mean", "neg_var_q", "knn"].joined(separator: "\t"))
            for overview in overviews { print(line(overview)) }
        }
        for (run, message) in failures {
            FileHandle.standardError.write(Data("inspect: cannot read \(run): \(message)\n".utf8))
        }
    }

    private func line(_ o: RunOverview) -> String {
        let last = o.recentSteps.last
        let knn = o.latestEvals.first { $0.kind == .knn }
        return [o.directory, o.status ?? "-", String(o.stepCount), number(last?.loss), number(last?.scores.positiveMean),
                number(last?.scores.negativeMean), number(last?.scores.negativeVarianceQuery), number(knn?.top1)]
            .joined(separator: "\t")
    }

    private func describe(_ o: RunOverview) -> String {
        var out: [String] = []
        out.append("run      \(o.directory)")
        out.append("status   \(o.status ?? "unset")   schema \(o.schemaVersion.map(String.init) ?? "?")"
            + "   scorescope \(o.scorescopeVersion ?? "?")   created \(o.created ?? "?")")
        if let first = o.firstStep, let last = o.lastStep {
            out.append("steps    \(o.stepCount) recorded (\(first)…\(last)), epoch \(o.recentSteps.last?.epoch ?? 0);"
                + " streams \(o.streams.isEmpty ? "none" : o.streams.joined(separator: ", "))")
        } else {
            out.append("steps    none recorded yet")
        }
        if !o.recentSteps.isEmpty {
            out.append("  " + ["step", "epoch", "loss", "inst_acc", "pos_mean", "pos_var", "neg_mean", "neg_var_q",
                               "neg_var_all", "lambda_ex", "lambda_in", "ms"].map { pad($0) }.joined())
            for s in o.recentSteps {
                out.append("  " + [String(s.step), String(s.epoch), number(s.loss), number(s.instanceAccuracy),
                                   number(s.scores.positiveMean), number(s.scores.positiveVariance),
                                   number(s.scores.negativeMean), number(s.scores.negativeVarianceQuery),
                                   number(s.scores.negativeVarianceAll), number(s.lambdaExtrapolation),
                                   number(s.lambdaInterpolation), number(s.milliseconds)].map { pad($0) }.joined())
            }
        }
        if o.latestEvals.isEmpty {
            out.append("evals    none")
        } else {
            out.append("evals    \(o.evalCount) recorded; latest:")
            for e in o.latestEvals {
                out.append("  \(e.kind) top1 \(number(e.top1))" + (e.top5.map { " top5 \(number($0))" } ?? "")
                    + " at step \(e.step) (epoch \(e.epoch))")
            }
        }
        if o.recentEvents.isEmpty {
            out.append("events   none")
        } else {
            out.append("events   \(o.eventCount) recorded" + (o.eventCount > o.recentEvents.count ? "; last \(o.recentEvents.count):" : ":"))
            for e in o.recentEvents { out.append("  step \(e.step)  \(e.kind)" + (e.detail.isEmpty ? "" : "  \(e.detail)")) }
        }
        return out.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }
            .joined(separator: "\n")
    }

    private func pad(_ text: String) -> String {
        text.count >= 12 ? text + " " : text + String(repeating: " ", count: 12 - text.count)
    }
}

/// A number for tables: 4 significant digits, "-" for none, "nan"/"inf" spelled out.
func number(_ value: Double?) -> String {
    guard let value else { return "-" }
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    return String(format: "%.4g", value)
}
