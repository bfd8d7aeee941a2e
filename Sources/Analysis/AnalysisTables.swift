// Tables of the analysis and their renderings as Markdown, CSV (RFC 4180), LaTeX (booktabs) and JSON.
//
// Cells are typed (text, integer, number, interval) so each format writes them its own way: Markdown and LaTeX
// show 4 significant digits and "mean ± half-width"; CSV and JSON keep full precision (shortest round-trip
// form), CSV splits an interval into "<column>" and "<column>_ci95" columns, JSON writes {"mean", "ci95", "n"};
// a missing or NaN number is empty in CSV, null in JSON, "–" in Markdown and LaTeX.
// Every string from configs or folder names is escaped for the format (pipes, quotes, LaTeX specials, JSON).
// Deliberately not here: HTML (Reports builds its index from these tables) and choosing what goes in a table
// beyond the three standard ones built at the bottom of this file.
import Foundation

/// Output formats of `scorescope analyze`.
public enum TableFormat: String, CaseIterable, Sendable {
    case markdown = "md", csv, latex, json
}

/// One table cell.
public enum TableCell: Hashable, Sendable {
    case text(String)
    case integer(Int)
    case number(Double)
    case interval(ConfidenceInterval)
    /// A config value: its text in Markdown, LaTeX and CSV; a JSON number, string, bool or null in JSON.
    case config(ConfigValue)
    case empty
}

/// A titled table with an identifier (used as the JSON key).
public struct Table: Sendable {
    public var id: String
    public var title: String
    public var columns: [String]
    public var rows: [[TableCell]]

    public init(id: String, title: String, columns: [String], rows: [[TableCell]]) {
        self.id = id
        self.title = title
        self.columns = columns
        self.rows = rows
    }

    /// The table alone in `format`.
    public func render(_ format: TableFormat) -> String {
        switch format {
        case .markdown: return markdown()
        case .csv: return csv()
        case .latex: return latex()
        case .json: return json()
        }
    }

    /// Several tables in one document: Markdown sections, CSV blocks each after a "# title" line and separated by
    /// a blank line, LaTeX table environments, or one JSON object keyed by table id.
    public static func render(_ tables: [Table], _ format: TableFormat) -> String {
        switch format {
        case .markdown: return tables.map { "### \($0.title)\n\n" + $0.markdown() }.joined(separator: "\n")
        case .csv:
            if tables.count == 1 { return tables[0].csv() }
            return tables.map { "# \($0.title)\n" + $0.csv() }.joined(separator: "\n")
        case .latex: return tables.map { $0.latex() }.joined(separator: "\n")
        case .json: return "{" + tables.map { jsonString($0.id) + ":" + $0.json() }.joined(separator: ",") + "}\n"
        }
    }

    // MARK: Markdown

    private func markdown() -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "\n", with: " ")
        }
        var lines = ["| " + columns.map(escape).joined(separator: " | ") + " |",
                     "|" + columns.map { _ in " --- |" }.joined()]
        for row in rows { lines.append("| " + row.map { escape(Table.short($0, plusMinus: "±")) }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: CSV

    private func csv() -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        // A column holding any interval becomes two columns.
        let intervalColumns = Set(columns.indices.filter { i in rows.contains { if case .interval = $0[i] { return true }; return false } })
        var header: [String] = []
        for (i, c) in columns.enumerated() { header += intervalColumns.contains(i) ? [c, c + "_ci95"] : [c] }
        var lines = [header.map(quote).joined(separator: ",")]
        for row in rows {
            var cells: [String] = []
            for (i, cell) in row.enumerated() {
                if intervalColumns.contains(i) {
                    if case .interval(let ci) = cell { cells += [Table.full(ci.mean), Table.full(ci.halfWidth)] }
                    else { cells += [Table.full(cell), ""] }
                } else {
                    cells.append(Table.full(cell))
                }
            }
            lines.append(cells.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: LaTeX

    private func latex() -> String {
        var lines = ["% \(Table.latexEscape(title))", "\\begin{tabular}{" + columns.indices.map { i in
            rows.contains { cell in
                switch cell[i] {
                case .text, .config(.string): return true
                default: return false
                }
            } ? "l" : "r"
        }.joined() + "}", "\\toprule"]
        lines.append(columns.map(Table.latexEscape).joined(separator: " & ") + " \\\\")
        lines.append("\\midrule")
        for row in rows {
            lines.append(row.map { cell -> String in
                if case .interval(let ci) = cell, !ci.mean.isNaN {
                    return ci.halfWidth.isNaN ? "$\(Table.significant(ci.mean))$"
                        : "$\(Table.significant(ci.mean)) \\pm \(Table.significant(ci.halfWidth))$"
                }
                return Table.latexEscape(Table.short(cell, plusMinus: "±"))
            }.joined(separator: " & ") + " \\\\")
        }
        lines += ["\\bottomrule", "\\end{tabular}"]
        return lines.joined(separator: "\n") + "\n"
    }

    static func latexEscape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(ch)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            case "–": out += "--"
            case "±": out += "$\\pm$"
            default: out.append(ch)
            }
        }
        return out
    }

    // MARK: JSON

    private func json() -> String {
        var out = "{\"title\":" + jsonString(title) + ",\"columns\":[" + columns.map(jsonString).joined(separator: ",")
            + "],\"rows\":["
        out += rows.map { row in
            "{" + zip(columns, row).map { column, cell in
                let value: String
                switch cell {
                case .text(let s): value = jsonString(s)
                case .integer(let i): value = String(i)
                case .number(let d): value = jsonNumber(d)
                case .interval(let ci):
                    value = "{\"mean\":\(jsonNumber(ci.mean)),\"ci95\":\(jsonNumber(ci.halfWidth)),\"n\":\(ci.count)}"
                case .config(.number(let d)): value = jsonNumber(d)
                case .config(.bool(let b)): value = b ? "true" : "false"
                case .config(.string(let text)): value = jsonString(text)
                case .config(.null), .empty: value = "null"
                }
                return jsonString(column) + ":" + value
            }.joined(separator: ",") + "}"
        }.joined(separator: ",")
        return out + "]}"
    }

    // MARK: Cell text

    /// 4 significant digits, "–" for missing.
    static func short(_ cell: TableCell, plusMinus: String) -> String {
        switch cell {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return significant(d)
        case .interval(let ci):
            if ci.mean.isNaN { return "–" }
            return ci.halfWidth.isNaN ? significant(ci.mean) : "\(significant(ci.mean)) \(plusMinus) \(significant(ci.halfWidth))"
        case .config(let value): return value.description
        case .empty: return "–"
        }
    }

    /// Full precision (shortest round-trip), "" for missing or NaN.
    static func full(_ cell: TableCell) -> String {
        switch cell {
        case .text(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return full(d)
        case .interval(let ci): return full(ci.mean)
        case .config(.null): return ""
        case .config(let value): return value.description
        case .empty: return ""
        }
    }

    static func full(_ d: Double) -> String {
        if d.isNaN { return "" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        return "\(d)"
    }

    static func significant(_ d: Double) -> String {
        if d.isNaN { return "–" }
        if d.isInfinite { return d > 0 ? "∞" : "−∞" }
        return String(format: "%.4g", d)
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

func jsonNumber(_ d: Double) -> String { d.isFinite ? "\(d)" : "null" }

// MARK: - The standard tables of a sweep

extension SweepAnalysis {
    /// One row per run: its grouping values, status, steps, warm-up, accuracies, the selected metrics, collapse.
    public func runsTable() -> Table {
        var columns = ["run"] + groupKeys + ["status", "steps", "warmup", "knn_top1", "linear_top1"]
        columns += metrics + ["collapse"]
        let selectors = metrics.compactMap { name in try? MetricSelector.parse(name).first }
        let rows: [[TableCell]] = runs.map { run in
            var row: [TableCell] = [.text(run.name)]
            row += groupKeys.map { .config(run.config[$0] ?? .null) }
            row += [.text(run.status ?? "–"),
                    run.lastStep.map { .integer($0) } ?? .empty,
                    run.warmupStep.map { .integer($0) } ?? .empty,
                    run.finalKnnTop1.map { .number($0) } ?? .empty,
                    run.finalLinearTop1.map { .number($0) } ?? .empty]
            row += selectors.map { .number(run.value($0)) }
            row.append(.text(run.collapse.flagged ? run.collapse.reason : "no"))
            return row
        }
        return Table(id: "runs", title: "Runs", columns: columns, rows: rows)
    }

    /// One row per setting: its values, the number of runs, mean ± 95 % t-interval of the accuracies and metrics,
    /// and how many runs the collapse check flagged.
    public func groupsTable() -> Table {
        let keyColumns = groupKeys.isEmpty ? ["setting"] : groupKeys
        let valueColumns = ["knn_top1", "linear_top1"] + metrics
        let rows: [[TableCell]] = groups.map { group in
            var row: [TableCell] = groupKeys.isEmpty ? [.text(group.label)] : group.settings.map { .config($0.value) }
            row.append(.integer(group.runs.count))
            row += valueColumns.map { column in group.intervals[column].map { .interval($0) } ?? .empty }
            row.append(.integer(group.flaggedRuns))
            return row
        }
        return Table(id: "groups", title: "Settings (mean ± 95 % t-interval over seeds)",
                     columns: keyColumns + ["runs"] + valueColumns + ["collapsed"], rows: rows)
    }

    /// One row per metric: Spearman ρ with kNN and linear top-1 across settings.
    public func correlationsTable() -> Table {
        let rows: [[TableCell]] = metrics.map { metric in
            let knn = correlations.first { $0.metric == metric && $0.accuracy == "knn_top1" }
            let linear = correlations.first { $0.metric == metric && $0.accuracy == "linear_top1" }
            return [.text(metric), .number(knn?.rho ?? .nan), .integer(knn?.settings ?? 0),
                    .number(linear?.rho ?? .nan), .integer(linear?.settings ?? 0)]
        }
        return Table(id: "correlations", title: "Spearman rank correlation with accuracy across settings",
                     columns: ["metric", "rho_knn", "settings_knn", "rho_linear", "settings_linear"], rows: rows)
    }
}
