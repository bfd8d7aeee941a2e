// FigureKind and FigureOptions: the figures Reports draws from run stores and the options every kind takes
// (size, title, series, epochs, style), parsed from the command line's text with clear errors.
// Deliberately not here: drawing (ReportFigures and its Figures+*.swift extensions).
import Foundation
import Plotting
import Recording

/// The figures drawn from run stores.
public enum FigureKind: String, CaseIterable, Sendable {
    /// neg variance (per query), neg mean and pos mean against the iteration, one line per run.
    case curves
    /// The paper's pseudo-3-D view: one ribbon per run along a depth axis ordered by momentum (`--style grid`:
    /// small multiples).
    case variousM = "various-m"
    /// x = iteration, y = score, colour = density, from the stored histograms (pos, neg, and the FT streams).
    case heatmap
    /// pos and neg histograms at chosen epochs, offset vertically.
    case ridgeline
    /// The distributions before and after FT (pos vs pos_ft, neg vs neg_ft) at chosen epochs.
    case ftShift = "ft-shift"
    /// Loss and gradient norm against the iteration (log scale), kNN top-1 per epoch.
    case training
    /// FT geometry from stored vector samples, projected on the plane of z_q and z_k (and of a mixed negative).
    case sphere
    /// Top-1 per setting (FT settings when they vary) with 95 % t-intervals over seeds.
    case ablation

    /// One line for help texts.
    public var summary: String {
        switch self {
        case .curves: return "neg variance, neg mean, pos mean vs iteration, one line per run"
        case .variousM: return "3-D ribbons per momentum (--style grid: small multiples)"
        case .heatmap: return "score density over training from the histograms"
        case .ridgeline: return "pos/neg histograms at chosen epochs, offset"
        case .ftShift: return "pos vs pos_ft and neg vs neg_ft at chosen epochs"
        case .training: return "loss and gradient norm (log), kNN top-1 per epoch"
        case .sphere: return "FT geometry on the unit circle from vector samples"
        case .ablation: return "top-1 per setting with 95 % intervals over seeds"
        }
    }

    /// The file stem used in reports ("various-m" → "various-m").
    public var fileStem: String { rawValue }

    /// Parses a kind name; throws `badOption` listing the kinds.
    public static func parse(_ text: String) throws(ReportError) -> FigureKind {
        guard let kind = FigureKind(rawValue: text.lowercased()) else {
            throw .badOption("unknown figure kind '\(text)': use one of " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return kind
    }
}

/// Styles of kinds that have more than one look.
public enum FigureStyle: String, CaseIterable, Sendable {
    /// The kind's usual look (for various-m: the 3-D ribbons).
    case standard
    /// Small multiples: one panel per run (various-m only).
    case grid
}

/// Options shared by every figure kind. Defaults: the kind's own size, no title, the kind's default series and
/// epochs, the standard style.
public struct FigureOptions: Sendable {
    /// Page size; nil = the kind's default (text width for multi-panel figures, column width otherwise).
    public var size: FigureSize?
    /// Figure title; nil = none.
    public var title: String?
    /// Step columns to draw (curves, various-m); empty = neg_var_query, neg_mean, pos_mean.
    public var series: [StepColumn]
    /// Epochs to show (ridgeline, ft-shift; sphere: the epoch whose last sample is shown); empty = 5 evenly
    /// spaced recorded epochs (ridgeline, ft-shift) or the last sample (sphere).
    public var epochs: [Int]
    /// Default `.standard`.
    public var style: FigureStyle

    /// Options with the defaults stated on each property.
    public init(size: FigureSize? = nil, title: String? = nil, series: [StepColumn] = [], epochs: [Int] = [],
                style: FigureStyle = .standard) {
        self.size = size
        self.title = title
        self.series = series
        self.epochs = epochs
        self.style = style
    }

    /// The three score series of the paper's curves, in panel order.
    public static let defaultSeries: [StepColumn] = [.negativeVarianceQuery, .negativeMean, .positiveMean]

    /// Parses "column", "text" or "WxH" in points (e.g. "400x250"); throws `badOption`.
    public static func parseSize(_ text: String) throws(ReportError) -> FigureSize {
        switch text.lowercased() {
        case "column": return .column
        case "text": return .text
        default:
            let parts = text.lowercased().split(separator: "x").map { Double($0) }
            guard parts.count == 2, let w = parts[0], let h = parts[1], w.isFinite, h.isFinite, w >= 50, h >= 50, w <= 5000, h <= 5000 else {
                throw .badOption("--size '\(text)' must be column, text or WIDTHxHEIGHT in points (each 50…5000), e.g. 400x250")
            }
            return .points(width: w, height: h)
        }
    }

    /// Parses series names: `steps` column names (neg_var_query, neg_mean, pos_mean, pos_var, neg_var_all, loss,
    /// grad_norm, lr, ...), with '-' accepted for '_' and "neg_var"/"neg_variance" for neg_var_query; a
    /// comma-separated list is split. Throws `badOption` listing the names.
    public static func parseSeries(_ texts: [String]) throws(ReportError) -> [StepColumn] {
        var result: [StepColumn] = []
        for text in texts.flatMap({ $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }) {
            let key = text.lowercased().replacingOccurrences(of: "-", with: "_")
            let aliases: [String: StepColumn] = ["neg_var": .negativeVarianceQuery, "neg_variance": .negativeVarianceQuery,
                                                 "pos_variance": .positiveVariance, "gradient_norm": .gradientNorm]
            guard let column = StepColumn(rawValue: key) ?? aliases[key], column != .epoch else {
                throw .badOption("unknown series '\(text)': use one of "
                    + StepColumn.allCases.filter { $0 != .epoch }.map(\.rawValue).joined(separator: ", "))
            }
            if !result.contains(column) { result.append(column) }
        }
        return result
    }

    /// Parses epochs: integers ≥ 0, comma-separated lists allowed; throws `badOption`.
    public static func parseEpochs(_ texts: [String]) throws(ReportError) -> [Int] {
        var result: [Int] = []
        for text in texts.flatMap({ $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }) {
            guard let epoch = Int(text), epoch >= 0 else {
                throw .badOption("--epochs '\(text)' is not an epoch number (an integer ≥ 0)")
            }
            if !result.contains(epoch) { result.append(epoch) }
        }
        return result
    }
}

extension StepColumn {
    /// Panel title / axis label of a series.
    var title: String {
        switch self {
        case .negativeVarianceQuery: return "neg variance (per query)"
        case .negativeVarianceAll: return "neg variance (pooled)"
        case .negativeMean: return "neg mean"
        case .positiveMean: return "pos mean"
        case .positiveVariance: return "pos variance"
        case .loss: return "loss"
        case .gradientNorm: return "gradient norm"
        case .learningRate: return "learning rate"
        case .instanceAccuracy: return "instance accuracy"
        case .lambdaExtrapolation: return "λ extrapolation"
        case .lambdaInterpolation: return "λ interpolation"
        case .milliseconds: return "step time (ms)"
        case .momentum: return "key momentum"
        case .epoch: return "epoch"
        }
    }
}
