// Colormap: continuous colour maps for ordered quantities (momentum, epoch, density): viridis and cividis,
// sampled from their 256-entry tables with linear interpolation. It deliberately offers no rainbow maps.

import Foundation

/// A perceptually uniform colour map from 0 (dark) to 1 (light).
public struct Colormap: Equatable, Sendable {
    /// Name, for diagnostics and tests.
    public let name: String
    /// The lookup table, dark to light.
    public let table: [Color]

    /// A map from explicit stops, spread evenly over 0...1 (at least two).
    public init(name: String, stops: [Color]) {
        precondition(stops.count >= 2, "a colour map needs at least two stops, got \(stops.count)")
        self.name = name
        self.table = stops
    }

    /// viridis: dark purple (#440154) to yellow (#fde725).
    public static let viridis = Colormap(name: "viridis", stops: decode(viridisHex))
    /// cividis: dark blue (#00224e) to yellow (#fee838), designed for colour-vision deficiency.
    public static let cividis = Colormap(name: "cividis", stops: decode(cividisHex))

    /// The colour at `t` (clamped to 0...1), linearly interpolated between table entries.
    public func color(at t: Double) -> Color {
        guard t.isFinite else { return table[0] }
        let position = Swift.min(Swift.max(t, 0), 1) * Double(table.count - 1)
        let index = Swift.min(Int(position), table.count - 2)
        return table[index].mixed(with: table[index + 1], position - Double(index))
    }

    /// `count` colours spread evenly over `range` (default 0...0.9: the lightest yellow reads poorly as a line).
    public func colors(count: Int, range: ClosedRange<Double> = 0...0.9) -> [Color] {
        guard count > 0 else { return [] }
        if count == 1 { return [color(at: (range.lowerBound + range.upperBound) / 2)] }
        return (0..<count).map {
            color(at: range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(count - 1))
        }
    }

    private static func decode(_ hex: String) -> [Color] {
        var colors: [Color] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let end = hex.index(index, offsetBy: 6)
            colors.append(Color(hex: String(hex[index..<end])) ?? .black)
            index = end
        }
        return colors
    }
}
