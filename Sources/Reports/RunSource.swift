// RunSource: one run store opened for drawing: its name, flattened config, events, evaluations, step range and
// which score streams it recorded, read once; the bulk series, histogram and epoch reads the figures need.
// Also RunStyling: the legend label, colour and seed group of each run of a figure.
// Deliberately not here: drawing (the Figures+*.swift files) and analysis (the Analysis module).
import Analysis
import Foundation
import Plotting
import Recording

/// A run store opened for figures. Reads little at open; series and histograms are read on demand.
public struct RunSource: Sendable {
    /// The run folder.
    public let directory: String
    /// The folder's last path component.
    public let name: String
    /// The flattened resolved config (empty when the store has none).
    public let config: ConfigValues
    /// Every event, in insertion order.
    public let events: [RunEvent]
    /// Every evaluation, ascending by step. Top-1 values are stored in percent (0–100).
    public let evals: [EvalRecord]
    /// First and last recorded step; nil for a store without steps.
    public let stepRange: ClosedRange<Int>?
    /// The streams with a histogram at the first or last step, in `ScoreStream.allCases` order.
    public let streams: [ScoreStream]
    let reader: RunReader

    /// Opens the run store in `directory`. Throws `ReportError.noRuns` when there is none and `.store` when it
    /// cannot be read.
    public init(directory: String) throws(ReportError) {
        if !RunReader.isRunDirectory(directory) {
            throw .noRuns("no run store (\(RunStore.fileName)) in '\(directory)'")
        }
        let reader = try ReportError.wrap { try RunReader(directory: directory) }
        self.reader = reader
        self.directory = directory
        name = (directory as NSString).lastPathComponent
        config = try ReportError.wrap { try reader.configJSON().map { try ConfigValues(json: $0) } ?? ConfigValues() }
        events = try ReportError.wrap { try reader.events() }
        evals = try ReportError.wrap { try reader.evals() }
        let range = try ReportError.wrap { try reader.stepRange() }
        stepRange = range
        var present: [ScoreStream] = []
        if let range {
            for stream in ScoreStream.allCases {
                let found = try ReportError.wrap {
                    try reader.histogram(stream, step: range.lowerBound) != nil || reader.histogram(stream, step: range.upperBound) != nil
                }
                if found { present.append(stream) }
            }
        }
        streams = present
    }

    /// The key momentum from the config key "momentum", when recorded.
    public var momentum: Double? { config["momentum"]?.number }

    /// Top-1 of the last kNN evaluation, in percent, when recorded.
    public var finalKnnTop1: Double? { evals.last { $0.kind == .knn && $0.top1.isFinite }?.top1 }

    /// True when the run recorded the post-FT streams.
    public var hasTransformedStreams: Bool { streams.contains(.positiveTransformed) || streams.contains(.negativeTransformed) }

    /// Steps as Doubles and the values of `columns` (NaN for NULL), in one read.
    func series(_ columns: [StepColumn]) throws(ReportError) -> (steps: [Double], values: [[Double]]) {
        let (steps, values) = try ReportError.wrap { try reader.columns(columns) }
        return (steps.map(Double.init), values)
    }

    /// The first and last step of each recorded epoch, ascending by epoch.
    func epochRanges() throws(ReportError) -> [(epoch: Int, steps: ClosedRange<Int>)] {
        let (steps, values) = try ReportError.wrap { try reader.columns([.epoch]) }
        var result: [(epoch: Int, steps: ClosedRange<Int>)] = []
        for (step, value) in zip(steps, values[0]) where value.isFinite {
            let epoch = Int(value)
            if let last = result.last, last.epoch == epoch {
                result[result.count - 1].steps = last.steps.lowerBound...step
            } else {
                result.append((epoch, step...step))
            }
        }
        return result
    }

    /// Requires a non-empty store, else `missingData`.
    func requireSteps(for figure: String) throws(ReportError) -> ClosedRange<Int> {
        guard let stepRange else { throw .missingData(run: name, what: "has no recorded steps: the \(figure) figure needs them") }
        return stepRange
    }

    /// Requires histograms of `streams`, else `missingData` naming what is missing.
    func requireStreams(_ needed: [ScoreStream], for figure: String, why: String = "") throws(ReportError) {
        let missing = needed.filter { !streams.contains($0) }
        if !missing.isEmpty {
            throw .missingData(run: name, what: "has no \(missing.map(\.rawValue).joined(separator: "/")) histograms\(why): "
                + "the \(figure) figure needs them")
        }
    }

    /// Opens every run under each of `directories` (a run folder, or a folder of runs searched 3 levels deep),
    /// in the order given, each once.
    public static func open(_ directories: [String]) throws(ReportError) -> [RunSource] {
        var folders: [String] = []
        for directory in directories {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw .noRuns("'\(directory)' is not a folder")
            }
            let found = RunReader.findRuns(under: directory)
            if found.isEmpty { throw .noRuns("no run store (\(RunStore.fileName)) in '\(directory)' or its subfolders") }
            for run in found where !folders.contains(run) { folders.append(run) }
        }
        let found = folders
        return try HistogramSums.parallelMap(found.count) { i throws(ReportError) in try RunSource(directory: found[i]) }
    }
}

// MARK: - Labels and colours

/// How one run appears in a figure.
struct RunStyle {
    /// "m=0.99", a "key=value" list of the settings that vary, or the folder name.
    var label: String
    /// Legend text: the label and the final kNN top-1 (mean over the seed group), "m=0.99 | 84.1".
    var legend: String
    var color: Color
    /// Runs with the same settings (seeds) share a group, a colour and one legend entry.
    var group: Int
    /// True for the first run of its group (the one that carries the legend entry).
    var leadsGroup: Bool
}

enum RunStyling {
    /// Labels, legends and colours for `runs`, and the drawing order (groups by ascending momentum, so the
    /// noisier low-momentum runs go behind). Colours: distinct Okabe–Ito hues in momentum order (largest first)
    /// for up to 7 settings, viridis by momentum beyond that, the Okabe–Ito cycle in run order without momenta.
    static func styles(_ runs: [RunSource]) -> (styles: [RunStyle], order: [Int]) {
        let varying = SweepAnalysis.varyingKeys(runs.map(\.config), ignoring: SweepAnalysis.defaultIgnoredKeys)
        let labels = runs.map { label($0, varying: varying, single: runs.count == 1) }
        var groupLabels: [String] = []
        for l in labels where !groupLabels.contains(l) { groupLabels.append(l) }
        let groupOf = labels.map { l in groupLabels.firstIndex(of: l) ?? 0 }
        // One momentum per group, when every run has one.
        let momenta = groupLabels.indices.map { g in runs.indices.first { groupOf[$0] == g }.flatMap { runs[$0].momentum } }
        let byMomentum = momenta.allSatisfy { $0 != nil } && Set(momenta.compactMap { $0 }).count == groupLabels.count
            && groupLabels.count > 1
        let groupOrder: [Int] = byMomentum
            ? groupLabels.indices.sorted { (momenta[$0] ?? 0) < (momenta[$1] ?? 0) }
            : Array(groupLabels.indices)
        var colors = Array(repeating: Color.black, count: groupLabels.count)
        if byMomentum && groupLabels.count > 7 {
            // Too many settings for distinct hues: viridis by momentum, darkest for the largest.
            let ramp = Colormap.viridis.colors(count: groupLabels.count, range: 0...0.85)
            for (rank, g) in groupOrder.reversed().enumerated() { colors[g] = ramp[rank] }
        } else if byMomentum {
            // Distinct Okabe–Ito hues assigned in momentum order, largest first (blue, vermillion, green, ...), so
            // neighbouring momenta never get look-alike shades.
            for (rank, g) in groupOrder.reversed().enumerated() { colors[g] = categorical(rank) }
        } else {
            for (rank, g) in groupOrder.enumerated() { colors[g] = categorical(rank) }
        }
        var styles: [RunStyle] = []
        var seen = Set<Int>()
        for i in runs.indices {
            let g = groupOf[i]
            let members = runs.indices.filter { groupOf[$0] == g }
            let accuracies = members.compactMap { runs[$0].finalKnnTop1 }
            var legend = labels[i]
            if !accuracies.isEmpty {
                legend += " | " + String(format: "%.1f", accuracies.reduce(0, +) / Double(accuracies.count))
            }
            if members.count > 1 { legend += " (\(members.count) runs)" }
            styles.append(RunStyle(label: labels[i], legend: legend, color: colors[g], group: g, leadsGroup: !seen.contains(g)))
            seen.insert(g)
        }
        let order = groupOrder.flatMap { g in runs.indices.filter { groupOf[$0] == g } }
        return (styles, order)
    }

    /// `runs` in drawing order (settings by ascending momentum, seeds together), so panels of a grid follow the
    /// legends of the line figures whatever order the folders were given in.
    static func ordered(_ runs: [RunSource]) -> [RunSource] { styles(runs).order.map { runs[$0] } }

    /// The Okabe–Ito colours without yellow (it does not read as a line on white), cycling.
    static func categorical(_ index: Int) -> Color {
        let usable = [0, 1, 2, 3, 4, 5, 7]
        return Palette.categorical(usable[index % usable.count])
    }

    /// "m=0.99" when the momentum is known and is what varies (or the only run); the varying settings as
    /// "key=value" otherwise; the folder name when nothing is known.
    static func label(_ run: RunSource, varying: [String], single: Bool) -> String {
        if run.config.values.isEmpty { return run.name }
        if varying.isEmpty || varying == ["momentum"] {
            if let m = run.momentum { return "m=" + momentumText(m) }
            return varying.isEmpty && !single ? "all runs" : run.name
        }
        return varying.map { key -> String in
            if key == "momentum", let m = run.momentum { return "m=" + momentumText(m) }
            let short = key.split(separator: ".").last.map(String.init) ?? key
            return "\(short)=\(run.config[key]?.description ?? "–")"
        }.joined(separator: ", ")
    }

    /// 0.99 → "0.99", 1 → "1", 0.999 → "0.999".
    static func momentumText(_ m: Double) -> String {
        var text = String(format: "%.6g", m)
        if text.contains("e") { text = "\(m)" }
        return text
    }
}
