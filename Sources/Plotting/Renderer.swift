// Renderer: the small drawing interface every surface implements (fill, stroke, text, text extents, clip,
// image), in points with y down. Figures and artists draw only through it, so PNG, SVG, PDF and the recording
// renderer of the tests share one drawing path. It deliberately has no notion of data, axes or scales.

/// An RGBA raster drawn with nearest-neighbour sampling (heat maps, colour bars). Row 0 is the top row.
public struct RasterImage: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// Row-major, `width * height` colours; a colour with alpha 0 leaves the cell empty.
    public var pixels: [Color]
    public init(width: Int, height: Int, pixels: [Color]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height,
                     "raster \(width)×\(height) needs \(width * height) pixels, got \(pixels.count)")
        self.width = width; self.height = height; self.pixels = pixels
    }
}

/// A drawing surface. Units are points; y grows downwards.
public protocol Renderer: AnyObject {
    /// Device pixels per point: how finely long series are reduced (min/max envelope per pixel column).
    var pixelsPerPoint: Double { get }
    /// Fills a path with the non-zero winding rule.
    func fill(_ path: Path, color: Color)
    /// Strokes a path's outline.
    func stroke(_ path: Path, style: StrokeStyle)
    /// Draws a string whose `anchor` point is at `at`, rotated counter-clockwise by `rotation` radians about it.
    func text(_ string: String, at: Point, font: Font, color: Color, anchor: TextAnchor, rotation: Double)
    /// The unrotated size of a string in a font.
    func textExtents(_ string: String, font: Font) -> TextExtents
    /// Restricts drawing to `rect` until the matching `popClip()`. Clips nest.
    func pushClip(_ rect: Rect)
    func popClip()
    /// Draws a raster stretched over `rect` without smoothing.
    func image(_ image: RasterImage, in rect: Rect)
}

extension Renderer {
    /// The page box of a string placed like `text(_:at:font:color:anchor:rotation:)` would place it.
    public func textBox(_ string: String, at: Point, font: Font, anchor: TextAnchor, rotation: Double = 0) -> Rect {
        TextGeometry.box(textExtents(string, font: font), at: at, anchor: anchor, rotation: rotation)
    }
}
