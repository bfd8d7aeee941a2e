// RunExport: a run store as CSV files with a header row, for pandas and spreadsheets:
//   steps.csv              the `steps` table (empty cell = NULL/NaN);
//   histograms.csv         one row per step, stream and bin: step, stream, bin, bin_lower, bin_upper, count;
//   histogram_totals.csv   one row per step and stream: edges, bins, underflow, overflow, nan, count, sum,
//                          sum_sq, min, max (the exact moments and what lies outside the bins);
//   evals.csv, events.csv  the evaluations and events.
// Numbers are written in shortest round-trip form, so reading them back gives the stored Doubles exactly.
// Also a small RFC 4180 CSV parser (`CSV.parse`) used to read exports back.
// Deliberately not here: TensorBoard export (not built) or any filtering beyond a step stride for histograms.
import Foundation
import Recording

/// Writes run stores as CSV.
public enum RunExport {
    /// The files written, in order.
    public static let fileNames = ["steps.csv", "histograms.csv", "histogram_totals.csv", "evals.csv", "events.csv"]

    /// Exports the run in `runDirectory` into `outputDirectory` (created if needed). `histogramEvery` keeps the
    /// histograms of every n-th recorded step only (default 1: all). Returns the paths written.
    @discardableResult
    public static func writeCSV(runDirectory: String, to outputDirectory: String, histogramEvery: Int = 1) throws -> [String] {
        let reader = try RunReader(directory: runDirectory)
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw AnalysisError.io("cannot create \(outputDirectory): \(error.localizedDescription)")
        }
        func path(_ name: String) -> String { (outputDirectory as NSString).appendingPathComponent(name) }
        var written: [String] = []

        var steps = CSVWriter(columns: ["step", "epoch"] + StepColumn.allCases.filter { $0 != .epoch }.map(\.rawValue))
        for s in try reader.steps() {
            steps.row([String(s.step), String(s.epoch), number(s.learningRate), number(s.momentum), number(s.loss),
                       number(s.instanceAccuracy), number(s.gradientNorm), number(s.scores.positiveMean),
                       number(s.scores.positiveVariance), number(s.scores.negativeMean),
                       number(s.scores.negativeVarianceQuery), number(s.scores.negativeVarianceAll),
                       number(s.lambdaExtrapolation), number(s.lambdaInterpolation), number(s.milliseconds)])
        }
        try steps.write(to: path("steps.csv"))
        written.append(path("steps.csv"))

        // Histograms stream by stream; rows sorted by (step, stream, bin) through a stable merge by step.
        let every = max(1, histogramEvery)
        var perStep: [Int: [StepHistogram]] = [:]
        for stream in try reader.streams() {
            for (i, h) in try reader.histograms(stream).enumerated() where i % every == 0 {
                perStep[h.step, default: []].append(h)
            }
        }
        var bins = CSVWriter(columns: ["step", "stream", "bin", "bin_lower", "bin_upper", "count"])
        var totals = CSVWriter(columns: ["step", "stream", "lo", "hi", "bins", "underflow", "overflow", "nan", "count",
                                         "sum", "sum_sq", "min", "max"])
        for step in perStep.keys.sorted() {
            for item in perStep[step]! {
                let h = item.histogram, stream = item.stream.rawValue, stepText = String(step)
                for b in 0..<h.spec.bins {
                    bins.row([stepText, stream, String(b), number(h.spec.edge(b)), number(h.spec.edge(b + 1)),
                              String(h.counts[b])])
                }
                totals.row([stepText, stream, number(h.spec.lower), number(h.spec.upper), String(h.spec.bins),
                            String(h.underflow), String(h.overflow), String(h.nanCount), String(h.count), number(h.sum),
                            number(h.sumOfSquares), h.count > 0 ? number(h.minimum) : "", h.count > 0 ? number(h.maximum) : ""])
            }
        }
        try bins.write(to: path("histograms.csv"))
        try totals.write(to: path("histogram_totals.csv"))
        written += [path("histograms.csv"), path("histogram_totals.csv")]

        var evals = CSVWriter(columns: ["step", "epoch", "kind", "top1", "top5"])
        for e in try reader.evals() {
            evals.row([String(e.step), String(e.epoch), e.kind.rawValue, number(e.top1), number(e.top5)])
        }
        try evals.write(to: path("evals.csv"))
        var events = CSVWriter(columns: ["step", "kind", "detail"])
        for e in try reader.events() { events.row([String(e.step), e.kind.rawValue, e.detail]) }
        try events.write(to: path("events.csv"))
        written += [path("evals.csv"), path("events.csv")]
        return written
    }

    /// Shortest round-trip text of a Double; "" for nil or NaN; "inf"/"-inf" (pandas reads both).
    static func number(_ value: Double?) -> String {
        guard let value, !value.isNaN else { return "" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return "\(value)"
    }
}

/// Accumulates CSV text (RFC 4180 quoting, "\n" line ends).
struct CSVWriter {
    private var text: String

    init(columns: [String]) {
        text = ""
        row(columns)
    }

    mutating func row(_ cells: [String]) {
        text += cells.map(CSV.quote).joined(separator: ",")
        text += "\n"
    }

    func write(to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw AnalysisError.io("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// RFC 4180 CSV helpers.
public enum CSV {
    /// Quotes a cell when it holds a comma, a quote or a line break.
    public static func quote(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    /// Parses CSV text into rows of cells (quoted cells may hold commas, quotes and line breaks; "\r\n" or "\n"
    /// line ends; a final line break does not add an empty row). Throws on an unterminated quote.
    public static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], cell = ""
        var inQuotes = false, cellStarted = false
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let p = pending { pending = nil; return p }
            return iterator.next()
        }
        while let c = next() {
            if inQuotes {
                if c == "\"" {
                    if let n = next() {
                        if n == "\"" { cell.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                    } else { inQuotes = false }
                } else {
                    cell.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where !cellStarted:
                inQuotes = true
                cellStarted = true
            case ",":
                row.append(cell)
                cell = ""
                cellStarted = false
            case "\r":
                continue
            case "\n":
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
                cellStarted = false
            default:
                cell.unicodeScalars.append(c)
                cellStarted = true
            }
        }
        if inQuotes { throw AnalysisError.io("CSV: unterminated quoted cell") }
        if cellStarted || !row.isEmpty {
            row.append(cell)
            rows.append(row)
        }
        return rows
    }
}
