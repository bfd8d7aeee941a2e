// RecordingRenderer: a renderer that remembers every call instead of drawing, for tests and for callers that
// want to inspect a figure (which texts, where, which paths). Text is measured with the same Cairo measurer
// as the real surfaces, so recorded layouts equal rendered ones. It deliberately rasterises nothing.

/// Records drawing operations in order.
public final class RecordingRenderer: Renderer {
    /// One recorded call.
    public enum Operation: Equatable, Sendable {
        case fill(Path, Color)
        case stroke(Path, StrokeStyle)
        /// A text with its ink box on the page.
        case text(String, at: Point, font: Font, color: Color, anchor: TextAnchor, rotation: Double, box: Rect)
        case pushClip(Rect)
        case popClip
        case image(RasterImage, Rect)
    }

    /// Every call so far, in order.
    public private(set) var operations: [Operation] = []
    /// As given to `init` (long series are reduced to this many columns per point).
    public let pixelsPerPoint: Double
    private let measurer = CairoTextMeasurer()

    /// Default `pixelsPerPoint`: 200/72 (the PNG default of 200 DPI).
    public init(pixelsPerPoint: Double = 200.0 / 72.0) { self.pixelsPerPoint = pixelsPerPoint }

    public func fill(_ path: Path, color: Color) { operations.append(.fill(path, color)) }
    public func stroke(_ path: Path, style: StrokeStyle) { operations.append(.stroke(path, style)) }
    public func text(_ string: String, at: Point, font: Font, color: Color, anchor: TextAnchor, rotation: Double) {
        let box = textBox(string, at: at, font: font, anchor: anchor, rotation: rotation)
        operations.append(.text(string, at: at, font: font, color: color, anchor: anchor, rotation: rotation, box: box))
    }
    public func textExtents(_ string: String, font: Font) -> TextExtents { measurer.extents(string, font: font) }
    public func pushClip(_ rect: Rect) { operations.append(.pushClip(rect)) }
    public func popClip() { operations.append(.popClip) }
    public func image(_ image: RasterImage, in rect: Rect) { operations.append(.image(image, rect)) }

    /// Every text drawn: string, ink box (axis-aligned) and the ink rectangle's four corners (rotated with it).
    public var texts: [(string: String, box: Rect, corners: [Point])] {
        operations.compactMap {
            if case let .text(s, at, font, _, anchor, rotation, box) = $0 {
                return (s, box, TextGeometry.corners(textExtents(s, font: font), at: at, anchor: anchor, rotation: rotation))
            }
            return nil
        }
    }
    /// Every stroked path with its style.
    public var strokes: [(path: Path, style: StrokeStyle)] {
        operations.compactMap { if case let .stroke(p, s) = $0 { return (p, s) }; return nil }
    }
    /// Every filled path with its colour.
    public var fills: [(path: Path, color: Color)] {
        operations.compactMap { if case let .fill(p, c) = $0 { return (p, c) }; return nil }
    }
    /// Every raster drawn.
    public var images: [(image: RasterImage, rect: Rect)] {
        operations.compactMap { if case let .image(i, r) = $0 { return (i, r) }; return nil }
    }
}
