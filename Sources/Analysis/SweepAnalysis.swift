// SweepAnalysis: the runs of a sweep grouped by their settings, a mean and 95 % t-interval over seeds for every
// selected metric and accuracy, and the Spearman rank correlation between each stability metric and accuracy
// across settings.
//
// Grouping: by the `groupBy` key paths when given (e.g. ["ft.positive", "ft.negative"] for the FT ablation
// table), otherwise by every config key whose value differs between runs, except keys whose last path component
// is in `ignoredKeys` (seed, threads and output locations by default). Runs lacking a key get `null` for it.
// Correlations use one point per group (the group means), ranks with ties averaged.
// Deliberately not here: reading stores (RunAnalysis.swift) and rendering (AnalysisTables.swift).
import Foundation
import Recording

/// One setting of a sweep: the runs that share it and their summaries.
public struct GroupSummary: Codable, Sendable {
    /// The grouping keys and this group's values, in key order.
    public var settings: [Setting]
    /// Run folders in the group.
    public var runs: [String]
    /// Mean ± t-interval over the group's runs, keyed by `MetricSelector.description`.
    public var intervals: [String: ConfidenceInterval]
    /// Runs flagged by the collapse check.
    public var flaggedRuns: Int

    /// "key=value, key=value" (or "all runs" without keys).
    public var label: String {
        settings.isEmpty ? "all runs" : settings.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }

    /// A key and its value.
    public struct Setting: Codable, Hashable, Sendable {
        public var key: String
        public var value: ConfigValue
    }
}

/// The Spearman correlation of one metric with one accuracy across settings.
public struct MetricCorrelation: Codable, Hashable, Sendable {
    /// `MetricSelector.description` of the metric.
    public var metric: String
    /// "knn_top1" or "linear_top1".
    public var accuracy: String
    /// Spearman's ρ (NaN when undefined: fewer than 2 settings or a constant side).
    public var rho: Double
    /// Settings with both values.
    public var settings: Int
}

/// The analysis of a set of runs.
public struct SweepAnalysis: Codable, Sendable {
    /// Key-path components never used for automatic grouping (default).
    public static let defaultIgnoredKeys: Set<String> = [
        "seed", "threads", "out", "output", "outputDirectory", "outDirectory", "directory", "runDirectory", "name",
    ]

    public var runs: [RunAnalysis]
    /// The grouping keys used.
    public var groupKeys: [String]
    /// Groups in ascending order of their settings.
    public var groups: [GroupSummary]
    /// Correlations of each selected stability metric with each accuracy.
    public var correlations: [MetricCorrelation]
    /// The selected metrics (descriptions), in column order.
    public var metrics: [String]

    /// Groups `runs` and summarises `metrics` (default `MetricSelector.defaults`) per group. `groupBy` nil means
    /// automatic grouping (see the file header).
    public init(runs: [RunAnalysis], groupBy: [String]? = nil, ignoredKeys: Set<String> = SweepAnalysis.defaultIgnoredKeys,
                metrics: [MetricSelector] = MetricSelector.defaults, level: Double = 0.95) {
        self.runs = runs
        let keys = groupBy ?? SweepAnalysis.varyingKeys(runs.map(\.config), ignoring: ignoredKeys)
        groupKeys = keys
        let accuracies: [MetricSelector] = [.accuracy(.knn), .accuracy(.linear)]
        let selected = metrics.filter { if case .accuracy = $0 { return false } else { return true } }
        self.metrics = selected.map(\.description)

        var buckets: [[ConfigValue]: [RunAnalysis]] = [:]
        for run in runs { buckets[keys.map { run.config[$0] ?? .null }, default: []].append(run) }
        let orderedKeys = buckets.keys.sorted { a, b in
            for (x, y) in zip(a, b) where x != y { return x < y }
            return false
        }
        groups = orderedKeys.map { values in
            let members = buckets[values]!.sorted { $0.directory < $1.directory }
            var intervals: [String: ConfidenceInterval] = [:]
            for selector in accuracies + selected {
                intervals[selector.description] = ConfidenceInterval(values: members.map { $0.value(selector) }, level: level)
            }
            return GroupSummary(settings: zip(keys, values).map { GroupSummary.Setting(key: $0, value: $1) },
                                runs: members.map(\.directory), intervals: intervals,
                                flaggedRuns: members.filter(\.collapse.flagged).count)
        }

        var correlations: [MetricCorrelation] = []
        for accuracy in accuracies {
            let y = groups.map { $0.intervals[accuracy.description]?.mean ?? .nan }
            for selector in selected {
                let x = groups.map { $0.intervals[selector.description]?.mean ?? .nan }
                let both = zip(x, y).filter { !$0.0.isNaN && !$0.1.isNaN }.count
                correlations.append(MetricCorrelation(metric: selector.description, accuracy: accuracy.description,
                                                      rho: DescriptiveStatistics.spearman(x, y), settings: both))
            }
        }
        self.correlations = correlations
    }

    /// Keys whose values are not all equal across `configs` (a key missing from some counts as differing),
    /// minus the ignored ones, sorted.
    public static func varyingKeys(_ configs: [ConfigValues], ignoring ignored: Set<String>) -> [String] {
        var all = Set<String>()
        for c in configs { all.formUnion(c.values.keys) }
        return all.filter { key in
            let last = String(key.split(separator: ".").last ?? Substring(key))
            guard !ignored.contains(last), !ignored.contains(key) else { return false }
            let values = configs.map { $0[key] ?? .null }
            return Set(values).count > 1
        }.sorted()
    }
}
