// Scale and AxisMap: how data values map to positions along an axis (linear or base-10 log).
// It deliberately does not draw, nor choose limits or ticks (see Ticks.swift and Axes+Limits.swift).

import Foundation

/// How an axis spaces its values.
public enum Scale: Equatable, Sendable {
    case linear
    /// Base-10 logarithmic; values ≤ 0 cannot be shown and are skipped (and counted) when drawing.
    case log

    /// The value in the scale's linear space (log10 for `.log`).
    public func forward(_ value: Double) -> Double {
        switch self {
        case .linear: return value
        case .log: return log10(value)
        }
    }

    /// Inverse of `forward`.
    public func inverse(_ value: Double) -> Double {
        switch self {
        case .linear: return value
        case .log: return pow(10, value)
        }
    }

    /// True when the value can be placed on this scale (finite, and positive for `.log`).
    public func accepts(_ value: Double) -> Bool {
        switch self {
        case .linear: return value.isFinite
        case .log: return value.isFinite && value > 0
        }
    }
}

/// Maps data values along one axis to page positions (points).
public struct AxisMap: Equatable, Sendable {
    public var scale: Scale
    /// Data limits, `lower < upper`.
    public var lower: Double
    public var upper: Double
    /// Page positions of `lower` and `upper` (for y, `start` is the bottom: larger page y).
    public var start: Double
    public var end: Double

    public init(scale: Scale, lower: Double, upper: Double, start: Double, end: Double) {
        self.scale = scale; self.lower = lower; self.upper = upper; self.start = start; self.end = end
    }

    /// The page position of a data value (not clamped).
    public func callAsFunction(_ value: Double) -> Double {
        let a = scale.forward(lower), b = scale.forward(upper)
        return start + (scale.forward(value) - a) / (b - a) * (end - start)
    }

    /// The fraction 0...1 of the way from `lower` to `upper` (not clamped).
    public func fraction(_ value: Double) -> Double {
        let a = scale.forward(lower), b = scale.forward(upper)
        return (scale.forward(value) - a) / (b - a)
    }

    /// The data value at a page position.
    public func value(atPosition position: Double) -> Double {
        let a = scale.forward(lower), b = scale.forward(upper)
        return scale.inverse(a + (position - start) / (end - start) * (b - a))
    }
}
