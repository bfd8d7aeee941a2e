// RunAnalysis: one run's series after the warm-up and their stability metrics, its final accuracies, and the
// collapse check.
//
// Series (names as in tables and `--metric`): the `steps` columns pos_mean, pos_var, neg_mean, neg_var_query,
// neg_var_all and loss, and quantiles read from the histograms of each recorded stream, named
// "<stream>_q<percent>" (pos_q05, pos_q50, neg_q95, pos_ft_q50, …).
// Warm-up: analysis starts at `AnalysisOptions.warmupStep` when given, else at the step of the first
// `queue_filled` event (the first K/B steps contrast against random keys), else at the first step.
// Collapse check, on the last block (1/windowCount) of the analysed steps:
//   saturated  mean pos_mean > 1 − positiveMargin (default 0.01) and mean neg_var_query < varianceFloor (1e-4);
//   at chance  the loss stays within chanceTolerance (default 2 %) of log(K + 1) with a relative standard
//              deviation below 1 %, where K = negatives per query read from the neg/pos histogram counts.
// A run is flagged when either holds or when its status is `diverged`.
// Deliberately not here: grouping runs (SweepAnalysis.swift) and formatting (AnalysisTables.swift).
import Foundation
import Recording

/// Errors of the Analysis module.
public enum AnalysisError: Error, CustomStringConvertible, Equatable, Sendable {
    case badConfig(String)
    case badSelector(String)
    case noRuns(String)
    case io(String)

    public var description: String {
        switch self {
        case .badConfig(let why): return "config: \(why)"
        case .badSelector(let why): return why
        case .noRuns(let why): return why
        case .io(let why): return why
        }
    }
}

extension AnalysisError: LocalizedError {
    public var errorDescription: String? { description }
}

/// Options of the per-run analysis (defaults stated per field).
public struct AnalysisOptions: Sendable {
    /// First analysed step; nil (default) = the first `queue_filled` event, else the first step.
    public var warmupStep: Int?
    /// Rolling-median window in points for the excursion (default 25).
    public var rollingWindow: Int
    /// Number of blocks for the spread and for the collapse check's final block (default 5).
    public var windowCount: Int
    /// Quantiles read from the histograms (default 0.05, 0.5, 0.95).
    public var quantiles: [Double]
    /// Collapse: pos mean above 1 − this (default 0.01) …
    public var positiveMargin: Double
    /// … with neg variance per query below this (default 1e-4).
    public var varianceFloor: Double
    /// Collapse: loss within this relative distance of log(K + 1) (default 0.02).
    public var chanceTolerance: Double

    public init(warmupStep: Int? = nil, rollingWindow: Int = 25, windowCount: Int = 5,
                quantiles: [Double] = [0.05, 0.5, 0.95], positiveMargin: Double = 0.01, varianceFloor: Double = 1e-4,
                chanceTolerance: Double = 0.02) {
        self.warmupStep = warmupStep
        self.rollingWindow = rollingWindow
        self.windowCount = windowCount
        self.quantiles = quantiles
        self.positiveMargin = positiveMargin
        self.varianceFloor = varianceFloor
        self.chanceTolerance = chanceTolerance
    }
}

/// A named series of one run (steps ascending).
public struct NamedSeries: Codable, Hashable, Sendable {
    public var name: String
    public var steps: [Int]
    public var values: [Double]
    public init(name: String, steps: [Int], values: [Double]) {
        self.name = name
        self.steps = steps
        self.values = values
    }
}

/// Where the warm-up step came from.
public enum WarmupSource: String, Codable, Hashable, Sendable {
    case given, queueFilledEvent = "queue_filled", none
}

/// The collapse check of a run (see the file header).
public struct CollapseCheck: Codable, Hashable, Sendable {
    /// pos mean → 1 with neg variance → 0.
    public var saturated: Bool
    /// Loss constant near log(K + 1).
    public var atChance: Bool
    /// The run's status is `diverged`.
    public var diverged: Bool
    /// Any of the above.
    public var flagged: Bool { saturated || atChance || diverged }
    /// A short reason ("" when not flagged).
    public var reason: String {
        [saturated ? "pos→1, neg var→0" : nil, atChance ? "loss ≈ log(K+1)" : nil, diverged ? "diverged" : nil]
            .compactMap { $0 }.joined(separator: "; ")
    }
}

/// The analysis of one run.
public struct RunAnalysis: Codable, Sendable {
    /// The run folder.
    public var directory: String
    /// The folder's last path component.
    public var name: String
    /// The flattened resolved config (empty when the store has none).
    public var config: ConfigValues
    /// Raw `meta.status`.
    public var status: String?
    public var firstStep: Int?
    public var lastStep: Int?
    /// First analysed step and where it came from.
    public var warmupStep: Int?
    public var warmupSource: WarmupSource
    /// Negatives per query (neg count / pos count of the last histogram pair), when known.
    public var negativesPerQuery: Int?
    /// Metrics per series name, for the series that exist in this run.
    public var metrics: [String: SeriesMetrics]
    /// Top-1 of the last kNN / linear evaluation (fractions), when recorded.
    public var finalKnnTop1: Double?
    public var finalLinearTop1: Double?
    /// Mean loss over the last block of analysed steps.
    public var finalLoss: Double
    public var collapse: CollapseCheck

    /// The value of `selector` for this run (NaN when the series is missing).
    public func value(_ selector: MetricSelector) -> Double {
        switch selector {
        case .accuracy(let kind): return (kind == .knn ? finalKnnTop1 : finalLinearTop1) ?? .nan
        case .metric(let series, let kind): return metrics[series]?[kind] ?? .nan
        }
    }
}

/// What a table column or a correlation is about: a metric of a series, or a final accuracy.
public enum MetricSelector: Hashable, Sendable, CustomStringConvertible {
    case metric(series: String, kind: MetricKind)
    case accuracy(EvalKind)

    /// "series.metric" (e.g. "neg_var_query.roughness") or "knn_top1" / "linear_top1".
    public var description: String {
        switch self {
        case .metric(let series, let kind): return "\(series).\(kind.rawValue)"
        case .accuracy(let kind): return "\(kind.rawValue)_top1"
        }
    }

    /// Parses "series.metric", a bare series name (all five metrics), "knn"/"linear" (accuracies).
    /// Throws `badSelector` naming the text and the accepted forms.
    public static func parse(_ text: String) throws -> [MetricSelector] {
        let lowered = text.lowercased()
        if lowered == "knn" || lowered == "knn_top1" { return [.accuracy(.knn)] }
        if lowered == "linear" || lowered == "linear_top1" { return [.accuracy(.linear)] }
        let parts = lowered.split(separator: ".", maxSplits: 1).map(String.init)
        guard let series = parts.first, RunAnalyzer.isSeriesName(series) else {
            throw AnalysisError.badSelector("unknown metric '\(text)': use SERIES or SERIES.METRIC with SERIES one of "
                + RunAnalyzer.seriesNamesHelp + " and METRIC one of "
                + MetricKind.allCases.map(\.rawValue).joined(separator: ", ") + ", or knn / linear")
        }
        if parts.count == 1 { return MetricKind.allCases.map { .metric(series: series, kind: $0) } }
        guard let kind = MetricKind(rawValue: parts[1]) else {
            throw AnalysisError.badSelector("unknown metric '\(parts[1])' in '\(text)': use one of "
                + MetricKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return [.metric(series: series, kind: kind)]
    }

    /// The default table columns: level and roughness of pos mean, neg mean and neg variance per query, and the
    /// drift of neg variance per query.
    public static let defaults: [MetricSelector] = [
        .metric(series: "pos_mean", kind: .level), .metric(series: "pos_mean", kind: .roughness),
        .metric(series: "neg_mean", kind: .level), .metric(series: "neg_mean", kind: .roughness),
        .metric(series: "neg_var_query", kind: .level), .metric(series: "neg_var_query", kind: .roughness),
        .metric(series: "neg_var_query", kind: .drift),
    ]
}

/// Reads and analyses runs.
public enum RunAnalyzer {
    /// The `steps` columns analysed as series.
    public static let stepSeries: [StepColumn] = [
        .positiveMean, .positiveVariance, .negativeMean, .negativeVarianceQuery, .negativeVarianceAll, .loss,
    ]

    /// Name of a histogram quantile series: "<stream>_q<percent>" (q 0.05 → "q05", 0.5 → "q50", 0.995 → "q99.5").
    public static func quantileSeriesName(_ stream: ScoreStream, _ q: Double) -> String {
        let percent = q * 100
        let text = percent.rounded() == percent ? String(format: "%02d", Int(percent)) : "\(percent)"
        return "\(stream.rawValue)_q\(text)"
    }

    static func isSeriesName(_ name: String) -> Bool {
        if stepSeries.contains(where: { $0.rawValue == name }) { return true }
        return ScoreStream.allCases.contains { name.hasPrefix($0.rawValue + "_q") }
    }

    static var seriesNamesHelp: String {
        stepSeries.map(\.rawValue).joined(separator: ", ") + ", or STREAM_qNN (e.g. pos_q50, neg_q95)"
    }

    /// The series of a run from `warmup` on (all steps when nil): the step columns, then the histogram
    /// quantiles of every recorded stream.
    public static func series(of reader: RunReader, from warmup: Int?, quantiles: [Double]) throws -> [NamedSeries] {
        let range: ClosedRange<Int>? = warmup.map { $0...Int.max }
        var result: [NamedSeries] = []
        for column in stepSeries {
            let s = try reader.series(column, in: range)
            result.append(NamedSeries(name: column.rawValue, steps: s.steps, values: s.values))
        }
        for stream in try reader.streams() {
            let histograms = try reader.histograms(stream, in: range)
            let steps = histograms.map(\.step)
            for q in quantiles {
                result.append(NamedSeries(name: quantileSeriesName(stream, q), steps: steps,
                                          values: histograms.map { $0.histogram.quantile(q) }))
            }
        }
        return result
    }

    /// Analyses the run in `directory` (read-only; works while it trains).
    public static func analyze(directory: String, options: AnalysisOptions = AnalysisOptions()) throws -> RunAnalysis {
        let reader = try RunReader(directory: directory)
        let meta = try reader.meta()
        let config = try meta[MetaKey.config].map { try ConfigValues(json: $0) } ?? ConfigValues()
        let range = try reader.stepRange()
        var warmup: Int?
        var source = WarmupSource.none
        if let given = options.warmupStep {
            warmup = given
            source = .given
        } else if let event = try reader.events(kind: .queueFilled).first {
            warmup = event.step
            source = .queueFilledEvent
        } else {
            warmup = range?.lowerBound
        }
        let allSeries = try series(of: reader, from: warmup, quantiles: options.quantiles)
        var metrics: [String: SeriesMetrics] = [:]
        for s in allSeries {
            metrics[s.name] = SeriesMetrics(steps: s.steps, values: s.values, rollingWindow: options.rollingWindow,
                                            windowCount: options.windowCount)
        }

        var negativesPerQuery: Int?
        if let last = range?.upperBound, let pos = try reader.histogram(.positive, step: last),
           let neg = try reader.histogram(.negative, step: last), pos.count > 0 {
            negativesPerQuery = (neg.count + neg.nanCount) / (pos.count + pos.nanCount)
        }
        let evals = try reader.evals()
        func tail(_ name: String) -> [Double] {
            guard let s = allSeries.first(where: { $0.name == name }), !s.values.isEmpty else { return [] }
            let blocks = max(1, options.windowCount)
            return Array(s.values.suffix(max(1, s.values.count / blocks)))
        }
        let tailLoss = tail(StepColumn.loss.rawValue)
        let finalLoss = DescriptiveStatistics.mean(tailLoss)
        let saturated = DescriptiveStatistics.mean(tail(StepColumn.positiveMean.rawValue)) > 1 - options.positiveMargin
            && DescriptiveStatistics.mean(tail(StepColumn.negativeVarianceQuery.rawValue)) < options.varianceFloor
        var atChance = false
        if let k = negativesPerQuery, k > 0, !finalLoss.isNaN {
            let chance = log(Double(k) + 1)
            let spread = tailLoss.count > 1 ? DescriptiveStatistics.standardDeviation(tailLoss) : 0
            atChance = abs(finalLoss - chance) <= options.chanceTolerance * chance && spread <= 0.01 * chance
        }
        let status = meta[MetaKey.status]
        return RunAnalysis(
            directory: directory, name: (directory as NSString).lastPathComponent, config: config, status: status,
            firstStep: range?.lowerBound, lastStep: range?.upperBound, warmupStep: warmup, warmupSource: source,
            negativesPerQuery: negativesPerQuery, metrics: metrics,
            finalKnnTop1: evals.last { $0.kind == .knn }?.top1, finalLinearTop1: evals.last { $0.kind == .linear }?.top1,
            finalLoss: finalLoss,
            collapse: CollapseCheck(saturated: saturated, atChance: atChance, diverged: status == RunStatus.diverged.rawValue))
    }
}
