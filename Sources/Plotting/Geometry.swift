// Geometry: points, rectangles, paths, stroke and text styles shared by the figure model and every renderer.
// All lengths are in points (1/72 inch), y grows downwards as on the page. It deliberately knows nothing of
// data coordinates (see `AxisMap`) nor of any drawing library.

import Foundation

/// A position on the page in points, y growing downwards.
public struct Point: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// An axis-aligned rectangle in points; `y` is the top edge.
public struct Rect: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var minX: Double { x }
    public var maxX: Double { x + width }
    public var minY: Double { y }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }
    /// True when the two rectangles share interior area (touching edges do not count).
    public func intersects(_ other: Rect) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }
    /// True when `other` lies inside this rectangle, allowing `tolerance` points of overhang.
    public func contains(_ other: Rect, tolerance: Double = 0) -> Bool {
        other.minX >= minX - tolerance && other.maxX <= maxX + tolerance
            && other.minY >= minY - tolerance && other.maxY <= maxY + tolerance
    }
    public func contains(_ p: Point) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
    /// The rectangle grown by `amount` on every side (shrunk when negative).
    public func insetBy(_ amount: Double) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }
    /// The smallest rectangle holding both.
    public func union(_ other: Rect) -> Rect {
        let x0 = Swift.min(minX, other.minX), y0 = Swift.min(minY, other.minY)
        return Rect(x: x0, y: y0, width: Swift.max(maxX, other.maxX) - x0, height: Swift.max(maxY, other.maxY) - y0)
    }
}

/// A vector path: moves, lines, closes and full circles, in points.
public struct Path: Equatable, Sendable {
    /// One drawing command.
    public enum Element: Equatable, Sendable {
        case move(Point)
        case line(Point)
        case close
        /// A full circle (used for scatter markers).
        case circle(center: Point, radius: Double)
    }
    /// The commands in order.
    public private(set) var elements: [Element] = []
    public init() {}
    public mutating func move(to p: Point) { elements.append(.move(p)) }
    public mutating func line(to p: Point) { elements.append(.line(p)) }
    public mutating func close() { elements.append(.close) }
    public mutating func addCircle(center: Point, radius: Double) { elements.append(.circle(center: center, radius: radius)) }
    public mutating func addRect(_ r: Rect) {
        move(to: Point(r.minX, r.minY)); line(to: Point(r.maxX, r.minY))
        line(to: Point(r.maxX, r.maxY)); line(to: Point(r.minX, r.maxY)); close()
    }
    /// A polyline through `points` (nothing when empty).
    public mutating func addPolyline(_ points: [Point]) {
        guard let first = points.first else { return }
        move(to: first)
        for p in points.dropFirst() { line(to: p) }
    }
    public static func rect(_ r: Rect) -> Path { var p = Path(); p.addRect(r); return p }
    public static func polyline(_ points: [Point]) -> Path { var p = Path(); p.addPolyline(points); return p }
    public static func segment(_ a: Point, _ b: Point) -> Path { var p = Path(); p.move(to: a); p.line(to: b); return p }
    public var isEmpty: Bool { elements.isEmpty }
    /// Every point the path passes through (circle centres for circles), for tests and hit counting.
    public var points: [Point] {
        elements.compactMap {
            switch $0 {
            case let .move(p), let .line(p): return p
            case let .circle(c, _): return c
            case .close: return nil
            }
        }
    }
}

/// A dash pattern for strokes.
public enum Dash: Equatable, Sendable {
    case solid, dashed, dotted, dashDot
    /// On/off lengths in points.
    case custom([Double])

    /// On/off lengths in points for a line of the given width (empty for solid).
    public func pattern(lineWidth: Double) -> [Double] {
        let w = Swift.max(lineWidth, 0.5)
        switch self {
        case .solid: return []
        case .dashed: return [3.7 * w, 1.6 * w]
        case .dotted: return [1 * w, 1.65 * w]
        case .dashDot: return [6.4 * w, 1.6 * w, 1 * w, 1.6 * w]
        case let .custom(lengths): return lengths
        }
    }
}

/// How a path outline is drawn.
public struct StrokeStyle: Equatable, Sendable {
    public var color: Color
    public var width: Double
    public var dash: Dash
    public var roundJoins: Bool
    /// Defaults: solid, round joins and caps.
    public init(color: Color, width: Double, dash: Dash = .solid, roundJoins: Bool = true) {
        self.color = color; self.width = width; self.dash = dash; self.roundJoins = roundJoins
    }
}

/// A font: family, size in points, and weight.
public struct Font: Equatable, Sendable {
    public var family: String
    public var size: Double
    public var bold: Bool
    /// Default family: DejaVu Sans (installed with fonts-dejavu-core).
    public init(family: String = "DejaVu Sans", size: Double, bold: Bool = false) {
        self.family = family; self.size = size; self.bold = bold
    }
}

/// Where a text's reference point sits on the text.
public struct TextAnchor: Equatable, Sendable {
    public enum Horizontal: Sendable { case left, center, right }
    /// `top`: capital tops at the point; `center`: capitals centred; `baseline`; `bottom`: descenders at the point.
    public enum Vertical: Sendable { case top, center, baseline, bottom }
    public var horizontal: Horizontal
    public var vertical: Vertical
    public init(_ horizontal: Horizontal, _ vertical: Vertical) { self.horizontal = horizontal; self.vertical = vertical }
    public static let center = TextAnchor(.center, .center)
}

/// Measured size of a string, in points, unrotated.
public struct TextExtents: Equatable, Sendable {
    /// Advance width.
    public var width: Double
    /// Height of capitals above the baseline (font-wide), used to centre and top-align text.
    public var capHeight: Double
    /// Highest ink above the baseline for this string (at least `capHeight`).
    public var ascent: Double
    /// Lowest ink below the baseline for this string (at least a small font-wide descent margin).
    public var descent: Double
    public init(width: Double, capHeight: Double, ascent: Double, descent: Double) {
        self.width = width; self.capHeight = capHeight; self.ascent = ascent; self.descent = descent
    }
    public var height: Double { ascent + descent }
}

/// Geometry of placed text, shared by the figure layout and the renderers, so both agree on where ink goes.
enum TextGeometry {
    /// The offset from the anchor point to the baseline-left origin, in the text's own (unrotated) frame.
    static func origin(_ e: TextExtents, _ anchor: TextAnchor) -> Point {
        let dx: Double
        switch anchor.horizontal {
        case .left: dx = 0
        case .center: dx = -e.width / 2
        case .right: dx = -e.width
        }
        let dy: Double
        switch anchor.vertical {
        case .top: dy = e.capHeight
        case .center: dy = e.capHeight / 2
        case .baseline: dy = 0
        case .bottom: dy = -e.descent
        }
        return Point(dx, dy)
    }

    /// The four page corners of a text's ink rectangle (rotated with the text).
    static func corners(_ e: TextExtents, at: Point, anchor: TextAnchor, rotation: Double) -> [Point] {
        let o = origin(e, anchor)
        let local = [Point(o.x, o.y - e.ascent), Point(o.x + e.width, o.y - e.ascent),
                     Point(o.x + e.width, o.y + e.descent), Point(o.x, o.y + e.descent)]
        let c = cos(rotation), s = sin(rotation)
        return local.map { Point(at.x + $0.x * c + $0.y * s, at.y - $0.x * s + $0.y * c) }
    }

    /// The box the ink of a text occupies on the page, for text drawn at `at` with `anchor`, rotated
    /// counter-clockwise by `rotation` radians about `at`.
    static func box(_ e: TextExtents, at: Point, anchor: TextAnchor, rotation: Double) -> Rect {
        // Counter-clockwise on the page (y down): x' = x c + y s, y' = -x s + y c.
        let rotated = corners(e, at: at, anchor: anchor, rotation: rotation)
        let xs = rotated.map(\.x), ys = rotated.map(\.y)
        let minX = xs.min() ?? at.x, minY = ys.min() ?? at.y
        return Rect(x: minX, y: minY, width: (xs.max() ?? at.x) - minX, height: (ys.max() ?? at.y) - minY)
    }
}
