// Ticks: "nice" tick positions (1, 2, 5 × 10^k), log-scale decades, and their labels (plain, 10k-style for
// iterations, powers of ten with superscripts, a shared ×10^k factor for tiny values).
// It deliberately does not decide how many ticks fit (the layout asks with a target count) nor draw anything.

import Foundation

/// How tick values become labels.
public enum TickFormat: Sendable {
    /// Plain decimals with as many digits as the tick step needs; a shared ×10^k factor for very small or large
    /// values (shown with the axis label).
    case automatic
    /// Training iterations: 0, 5k, 10k, 2.5k, 1.5M.
    case iterations
    /// Any labelling.
    case custom(@Sendable (Double) -> String)
}

/// One tick on an axis.
public struct Tick: Equatable, Sendable {
    public var value: Double
    /// Empty for minor ticks.
    public var label: String
    public var isMajor: Bool
    public init(value: Double, label: String, isMajor: Bool = true) {
        self.value = value; self.label = label; self.isMajor = isMajor
    }
}

/// The ticks of one axis plus an optional shared factor (e.g. "×10⁻⁴") that belongs with the axis label.
public struct AxisTicks: Equatable, Sendable {
    public var ticks: [Tick]
    public var factor: String?
    public init(ticks: [Tick], factor: String? = nil) { self.ticks = ticks; self.factor = factor }
    public var major: [Tick] { ticks.filter(\.isMajor) }
}

/// Tick placement and labelling.
public enum TickLocator {
    /// The smallest step of the form 1, 2 or 5 × 10^k that splits `span` into at most 1.25 × `targetCount`
    /// intervals (the slack keeps 5k steps on a padded 0…20k axis instead of jumping to 10k).
    public static func niceStep(span: Double, targetCount: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let limit = Double(Swift.max(targetCount, 1)) * 1.25
        let raw = span / limit
        let magnitude = pow(10, floor(log10(raw)))
        for multiple in [1.0, 2, 5, 10] where span / (multiple * magnitude) <= limit * (1 + 1e-9) {
            return multiple * magnitude
        }
        return 10 * magnitude
    }

    /// The next coarser nice step after `step` (1 → 2 → 5 → 10 → ...).
    public static func coarser(_ step: Double) -> Double {
        let magnitude = pow(10, floor(log10(step) + 1e-9))
        let mantissa = (step / magnitude).rounded()
        switch mantissa {
        case ..<1.5: return 2 * magnitude
        case ..<3.5: return 5 * magnitude
        default: return 10 * magnitude
        }
    }

    /// Multiples of `step` inside `lower...upper` (with a relative tolerance of 1e-9 of the step at both ends).
    public static func multiples(of step: Double, in lower: Double, _ upper: Double) -> [Double] {
        guard step > 0, lower.isFinite, upper.isFinite, upper >= lower else { return [] }
        let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
        guard last >= first, last - first < 10_000 else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            let v = k * step
            return v == 0 ? 0 : v   // no negative zero
        }
    }

    /// Linear ticks: nice multiples inside the limits, labelled with `format`.
    public static func linear(lower: Double, upper: Double, targetCount: Int, format: TickFormat) -> AxisTicks {
        linear(lower: lower, upper: upper, step: niceStep(span: upper - lower, targetCount: targetCount), format: format)
    }

    /// Linear ticks with a given step.
    public static func linear(lower: Double, upper: Double, step: Double, format: TickFormat) -> AxisTicks {
        let values = multiples(of: step, in: lower, upper)
        let (labels, factor) = labelsFor(values, step: step, format: format)
        return AxisTicks(ticks: zip(values, labels).map { Tick(value: $0, label: $1) }, factor: factor)
    }

    /// Log ticks: decades (every n-th when there are many) with minor ticks at 2…9; for ranges under a decade,
    /// 1-2-5 (or 1…9) multiples labelled as plain numbers.
    public static func log(lower: Double, upper: Double, targetCount: Int, format: TickFormat) -> AxisTicks {
        guard lower > 0, upper > lower, lower.isFinite, upper.isFinite else { return AxisTicks(ticks: []) }
        let lo = log10(lower), hi = log10(upper)
        let firstDecade = Int((lo - 1e-9).rounded(.down)), lastDecade = Int((hi + 1e-9).rounded(.up))
        let inside = { (v: Double) in v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9) }
        let decadesInside = (firstDecade...lastDecade).map { pow(10, Double($0)) }.filter(inside)
        if decadesInside.count >= 2 && hi - lo >= 2.5 {
            let stride = Swift.max(1, Int((Double(decadesInside.count) / Double(Swift.max(targetCount, 1))).rounded(.up)))
            var ticks: [Tick] = []
            for k in firstDecade...lastDecade {
                let decade = pow(10, Double(k))
                if inside(decade) {
                    let labelled = (k - firstDecade) % stride == 0
                    ticks.append(Tick(value: decade, label: labelled ? powerOfTen(k, format: format) : "", isMajor: labelled))
                }
                if stride == 1 {
                    for m in 2...9 where inside(Double(m) * decade) {
                        ticks.append(Tick(value: Double(m) * decade, label: "", isMajor: false))
                    }
                }
            }
            return AxisTicks(ticks: ticks.sorted { $0.value < $1.value })
        }
        // Under 2.5 decades: labelled mantissas 1, 2, 5 (or fewer / more as space allows), the other integer
        // mantissas as minor ticks.
        for mantissas in [[1.0, 2, 5], [1.0], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
            var ticks: [Tick] = []
            var labelled = 0
            for k in firstDecade...lastDecade {
                let decade = pow(10, Double(k))
                for m in 1...9 where inside(Double(m) * decade) {
                    let v = Double(m) * decade
                    if mantissas.contains(Double(m)) {
                        ticks.append(Tick(value: v, label: plainLabel(v, format: format))); labelled += 1
                    } else {
                        ticks.append(Tick(value: v, label: "", isMajor: false))
                    }
                }
            }
            let allowed = mantissas.count == 1 ? 1 : mantissas.count == 3 ? Int(Double(targetCount) * 1.5) : Int.max
            if labelled >= 2 && labelled <= allowed || mantissas.count == 9 && labelled >= 2 {
                return AxisTicks(ticks: ticks)
            }
        }
        // A very narrow range: fall back to linear ticks, which still lie inside the limits.
        return linear(lower: lower, upper: upper, targetCount: targetCount, format: format)
    }

    // MARK: labels

    /// Labels for equally spaced values; returns a shared factor text when the automatic format uses one.
    static func labelsFor(_ values: [Double], step: Double, format: TickFormat) -> ([String], String?) {
        switch format {
        case let .custom(f): return (values.map(f), nil)
        case .iterations: return (values.map { iterationLabel($0, step: step) }, nil)
        case .automatic:
            let largest = values.map(abs).max() ?? 0
            let stepExponent = Int(floor(log10(step) + 1e-9))
            // Shared factor for tiny or huge values, so labels stay short ("2.5" with "×10⁻⁴").
            if largest >= 1e5 || stepExponent <= -4 {
                let exponent = Int(floor(log10(Swift.max(largest, step)) + 1e-9))
                let scale = pow(10, Double(exponent))
                let decimals = Swift.max(0, exponent - stepExponent)
                return (values.map { decimal($0 / scale, decimals: decimals) }, "×" + powerOfTenText(exponent))
            }
            let decimals = Swift.max(0, -stepExponent)
            return (values.map { decimal($0, decimals: decimals) }, nil)
        }
    }

    /// 0, 500, 5k, 2.5k, 12.5k, 1.5M: the digits the step needs, trailing zeros dropped.
    static func iterationLabel(_ value: Double, step: Double) -> String {
        let magnitude = abs(value)
        let (unit, suffix): (Double, String) = magnitude >= 1e6 ? (1e6, "M") : magnitude >= 1e3 ? (1e3, "k") : (1, "")
        if value == 0 { return "0" }
        let scaled = step / unit
        var decimals = 0
        while decimals < 3 && abs(scaled * pow(10, Double(decimals)) - (scaled * pow(10, Double(decimals))).rounded()) > 1e-6 {
            decimals += 1
        }
        var text = decimal(value / unit, decimals: decimals)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text + suffix
    }

    static func plainLabel(_ value: Double, format: TickFormat) -> String {
        switch format {
        case let .custom(f): return f(value)
        case .iterations: return iterationLabel(value, step: value)
        case .automatic:
            let exponent = Int(floor(log10(value) + 1e-9))
            if exponent < -3 || exponent > 4 {
                let mantissa = value / pow(10, Double(exponent))
                return decimal(mantissa, decimals: 0) + "×" + powerOfTenText(exponent)
            }
            return decimal(value, decimals: Swift.max(0, -exponent))
        }
    }

    static func powerOfTen(_ exponent: Int, format: TickFormat) -> String {
        switch format {
        case let .custom(f): return f(pow(10, Double(exponent)))
        case .iterations: return iterationLabel(pow(10, Double(exponent)), step: pow(10, Double(exponent)))
        case .automatic: return powerOfTenText(exponent)
        }
    }

    /// Up to six significant digits, no trailing zeros, true minus sign: 0.99, 0.9999, 1e-05 → "1e−05".
    public static func compact(_ value: Double) -> String {
        var text = String(format: "%.6g", value)
        if text.hasPrefix("-") { text = "\u{2212}" + text.dropFirst() }
        return text
    }

    /// "10⁻³" with Unicode superscripts (DejaVu Sans has them).
    public static func powerOfTenText(_ exponent: Int) -> String {
        let superscripts: [Character: Character] = [
            "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻",
        ]
        return "10" + String(String(exponent).map { superscripts[$0] ?? $0 })
    }

    /// Fixed decimals, C locale, with a true minus sign (U+2212) and no "-0".
    public static func decimal(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-") {
            if text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { text.removeFirst() } else {
                text = "\u{2212}" + text.dropFirst()
            }
        }
        return text
    }
}
