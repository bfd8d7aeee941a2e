// CairoRenderer: the Renderer on a Cairo context, plus the text measurer shared with the recording renderer and
// the in-memory PNG/SVG/PDF encoders with byte-deterministic output (SVG surface ids renumbered, PDF creation
// date fixed, font metrics unhinted so layout does not depend on resolution). Only this file touches Cairo.
// It deliberately knows nothing of figures; Figure+Output.swift chooses sizes and formats.

import CCairo
import Foundation

/// Applies the font and font options every context uses: metrics unhinted so text widths are the same at any
/// resolution and in every format.
private func configureFont(_ context: OpaquePointer, _ font: Font) {
    cairo_select_font_face(context, font.family, CAIRO_FONT_SLANT_NORMAL,
                           font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(context, font.size)
}

private func unhintedOptions(_ context: OpaquePointer) {
    guard let options = cairo_font_options_create() else { return }
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
    cairo_set_font_options(context, options)
    cairo_font_options_destroy(options)
}

/// Measures text with Cairo's toy font API on a private 1×1 surface at 1 unit = 1 point.
final class CairoTextMeasurer {
    private let surface: OpaquePointer?
    private let context: OpaquePointer?
    private var cache: [String: TextExtents] = [:]
    private var capHeights: [String: Double] = [:]

    init() {
        surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)
        context = surface.flatMap { cairo_create($0) }
        if let context { unhintedOptions(context) }
    }

    deinit {
        if let context { cairo_destroy(context) }
        if let surface { cairo_surface_destroy(surface) }
    }

    func extents(_ string: String, font: Font) -> TextExtents {
        let key = "\(font.family)|\(font.size)|\(font.bold)|\(string)"
        if let hit = cache[key] { return hit }
        guard let context else {   // no Cairo context: a rough estimate keeps layout going
            return TextExtents(width: 0.6 * font.size * Double(string.count), capHeight: 0.73 * font.size,
                               ascent: 0.76 * font.size, descent: 0.24 * font.size)
        }
        configureFont(context, font)
        let fontKey = "\(font.family)|\(font.size)|\(font.bold)"
        let cap: Double
        if let known = capHeights[fontKey] { cap = known } else {
            var h = cairo_text_extents_t()
            cairo_text_extents(context, "H", &h)
            cap = -h.y_bearing
            capHeights[fontKey] = cap
        }
        var e = cairo_text_extents_t()
        cairo_text_extents(context, string, &e)
        let inkTop = string.isEmpty ? 0 : -e.y_bearing
        let inkBottom = string.isEmpty ? 0 : e.y_bearing + e.height
        let result = TextExtents(width: e.x_advance, capHeight: cap,
                                 ascent: Swift.max(cap, inkTop), descent: Swift.max(inkBottom, 0.22 * font.size))
        cache[key] = result
        return result
    }
}

/// A Renderer drawing on a Cairo context whose user units are points.
public final class CairoRenderer: Renderer {
    private let context: OpaquePointer
    private let measurer = CairoTextMeasurer()
    public let pixelsPerPoint: Double
    /// Vector surfaces get rasters upscaled to whole blocks per cell: SVG and PDF viewers often smooth images
    /// whatever filter the file asks for, which would blur a coarse heat map.
    private let upscalesRasters: Bool

    /// Wraps a context the caller owns (and keeps alive); `pixelsPerPoint` sets long-series resolution;
    /// `vector` (default false) upscales coarse rasters so viewers cannot blur them.
    public init(context: OpaquePointer, pixelsPerPoint: Double, vector: Bool = false) {
        self.context = context
        self.pixelsPerPoint = pixelsPerPoint
        self.upscalesRasters = vector
        unhintedOptions(context)
    }

    private func setColor(_ c: Color) { cairo_set_source_rgba(context, c.red, c.green, c.blue, c.alpha) }

    private func addPath(_ path: Path) {
        cairo_new_path(context)
        for element in path.elements {
            switch element {
            case let .move(p): cairo_move_to(context, p.x, p.y)
            case let .line(p): cairo_line_to(context, p.x, p.y)
            case .close: cairo_close_path(context)
            case let .circle(c, r):
                cairo_new_sub_path(context)
                cairo_arc(context, c.x, c.y, r, 0, 2 * Double.pi)
                cairo_close_path(context)
            }
        }
    }

    public func fill(_ path: Path, color: Color) {
        guard !path.isEmpty else { return }
        addPath(path)
        setColor(color)
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_WINDING)
        cairo_fill(context)
    }

    public func stroke(_ path: Path, style: StrokeStyle) {
        guard !path.isEmpty, style.width > 0 else { return }
        addPath(path)
        setColor(style.color)
        cairo_set_line_width(context, style.width)
        cairo_set_line_join(context, style.roundJoins ? CAIRO_LINE_JOIN_ROUND : CAIRO_LINE_JOIN_MITER)
        cairo_set_line_cap(context, style.roundJoins ? CAIRO_LINE_CAP_ROUND : CAIRO_LINE_CAP_BUTT)
        let dashes = style.dash.pattern(lineWidth: style.width)
        if style.roundJoins && !dashes.isEmpty {
            cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)   // round caps would swallow short dashes
        }
        dashes.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
        cairo_stroke(context)
    }

    public func text(_ string: String, at: Point, font: Font, color: Color, anchor: TextAnchor, rotation: Double) {
        guard !string.isEmpty else { return }
        let origin = TextGeometry.origin(textExtents(string, font: font), anchor)
        cairo_save(context)
        configureFont(context, font)
        setColor(color)
        cairo_translate(context, at.x, at.y)
        cairo_rotate(context, -rotation)
        cairo_move_to(context, origin.x, origin.y)
        cairo_show_text(context, string)
        cairo_restore(context)
    }

    public func textExtents(_ string: String, font: Font) -> TextExtents { measurer.extents(string, font: font) }

    public func pushClip(_ rect: Rect) {
        cairo_save(context)
        cairo_new_path(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
    }

    public func popClip() { cairo_restore(context) }

    public func image(_ image: RasterImage, in rect: Rect) {
        // Vector formats: each cell becomes kx×ky identical pixels (about 3 device pixels per point, at most 4
        // million pixels), so viewers that smooth images still show sharp cells. Each cell's premultiplied ARGB
        // value is computed once and replicated straight into the surface.
        var kx = 1, ky = 1
        if upscalesRasters {
            let sx = Swift.max(1, Int((rect.width * 3 / Double(image.width)).rounded(.up)))
            let sy = Swift.max(1, Int((rect.height * 3 / Double(image.height)).rounded(.up)))
            if (sx > 1 || sy > 1) && image.width * sx * image.height * sy <= 4_000_000 { (kx, ky) = (sx, sy) }
        }
        let width = image.width * kx, height = image.height * ky
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let data = cairo_image_surface_get_data(surface) else { return }
        for row in 0..<image.height {
            let first = (data + row * ky * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
            for column in 0..<image.width {
                let c = image.pixels[row * image.width + column]
                let a = Swift.min(Swift.max(c.alpha, 0), 1)
                func channel(_ v: Double) -> UInt32 { UInt32((Swift.min(Swift.max(v, 0), 1) * a * 255).rounded()) }
                let alpha: UInt32 = UInt32((a * 255).rounded()) << 24
                let red: UInt32 = channel(c.red) << 16, green: UInt32 = channel(c.green) << 8, blue: UInt32 = channel(c.blue)
                let value: UInt32 = alpha | red | green | blue
                (first + column * kx).update(repeating: value, count: kx)
            }
            let source = UnsafeRawPointer(data + row * ky * stride)
            for copy in 1..<ky {
                let target = UnsafeMutableRawPointer(data + (row * ky + copy) * stride)
                target.copyMemory(from: source, byteCount: width * 4)
            }
        }
        cairo_surface_mark_dirty(surface)
        cairo_save(context)
        cairo_new_path(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        cairo_translate(context, rect.x, rect.y)
        cairo_scale(context, rect.width / Double(width), rect.height / Double(height))
        cairo_set_source_surface(context, surface, 0, 0)
        if let pattern = cairo_get_source(context) {
            cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST)
            cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD)
        }
        cairo_paint(context)
        cairo_restore(context)
    }
}

/// Output formats, chosen from the file extension.
public enum OutputFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    /// The format named by the path's extension (case-insensitive), or nil.
    public init?(path: String) {
        let ext = (path as NSString).pathExtension.lowercased()
        self.init(rawValue: ext)
    }
}

/// Collects bytes from Cairo's stream callbacks.
private final class ByteSink {
    var bytes: [UInt8] = []
}

private let appendToSink: cairo_write_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
        .bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

/// In-memory encoders for the three formats.
enum CairoEncoder {
    /// The fixed PDF creation date that makes PDF output byte-stable.
    static let pdfCreationDate = "2020-01-01T00:00:00"
    /// PNGs at this resolution and above rasterise shapes with Cairo's FAST antialiasing (see `encode`).
    static let fastAntialiasDPI = 150.0

    private static func check(_ status: cairo_status_t) throws(PlotError) {
        if status != CAIRO_STATUS_SUCCESS { throw .cairo(status: String(cString: cairo_status_to_string(status))) }
    }

    /// Renders `draw` onto a page of `width`×`height` points and returns the encoded file.
    static func encode(format: OutputFormat, width: Double, height: Double, dpi: Double,
                       draw: (CairoRenderer) -> Void) throws(PlotError) -> [UInt8] {
        let sink = ByteSink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer?
        let scale: Double
        switch format {
        case .png:
            scale = dpi / 72
            let pixelWidth = Int32((width * scale).rounded()), pixelHeight = Int32((height * scale).rounded())
            surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pixelWidth, pixelHeight)
        case .svg:
            // CSS pixels: 96 per inch, so the file's px size is the physical size of the figure.
            scale = 96.0 / 72.0
            surface = cairo_svg_surface_create_for_stream(appendToSink, closure, width * scale, height * scale)
            if let surface { cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX) }
        case .pdf:
            scale = 1
            surface = cairo_pdf_surface_create_for_stream(appendToSink, closure, width, height)
            if let surface { cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, pdfCreationDate) }
        }
        guard let surface else { throw .cairo(status: "could not create a \(format.rawValue) surface") }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface))
        guard let context = cairo_create(surface) else { throw .cairo(status: "could not create a context") }
        cairo_scale(context, scale, scale)
        // PNG at 150 DPI and above: shapes rasterised with 4×4 supersampling (Cairo's FAST antialiasing) instead of
        // 256 coverage levels. A device pixel is then at most half a point and the edges look the same, while dense
        // series (a 20k-step envelope swings across the panel in every pixel column) rasterise about twice as fast.
        // Text is unaffected (font options decide it); vector formats are not rasterised by Cairo.
        if format == .png && dpi >= fastAntialiasDPI { cairo_set_antialias(context, CAIRO_ANTIALIAS_FAST) }
        // Vector formats: sample long series at 2 columns per point (about 144 DPI); PNG: per device pixel.
        let renderer = CairoRenderer(context: context, pixelsPerPoint: format == .png ? scale : 2, vector: format != .png)
        draw(renderer)
        let drawStatus = cairo_status(context)
        cairo_destroy(context)
        try check(drawStatus)
        if format == .png {
            cairo_surface_flush(surface)
            try check(cairo_surface_write_to_png_stream(surface, appendToSink, closure))
        } else {
            cairo_surface_finish(surface)
            try check(cairo_surface_status(surface))
        }
        withExtendedLifetime(sink) {}
        if format == .svg { return normalizedSVG(sink.bytes) }
        return sink.bytes
    }

    /// Renumbers Cairo's process-wide ids (`surface123`, `image45`, `source6`, `pattern7`, `mask8`) in order of
    /// first appearance, so the same figure gives the same SVG bytes in any process at any time. Only ids right
    /// after `"` or `#` are touched (`id="surface5"`, `href="#surface5"`, `url(#image7)`), never base64 data.
    static func normalizedSVG(_ svg: [UInt8]) -> [UInt8] {
        let prefixes: [[UInt8]] = ["surface", "image", "source", "pattern", "mask"].map { Array($0.utf8) }
        let quote = UInt8(ascii: "\""), hash = UInt8(ascii: "#")
        var renumbered: [[UInt8]: [UInt8]] = [:]
        var counters: [[UInt8]: Int] = [:]
        var output: [UInt8] = []
        output.reserveCapacity(svg.count)
        var i = 0
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        scan: while i < svg.count {
            let byte = svg[i]
            output.append(byte)
            i += 1
            guard byte == quote || byte == hash else { continue }
            for prefix in prefixes where i + prefix.count < svg.count && svg[i..<(i + prefix.count)].elementsEqual(prefix) {
                var k = i + prefix.count
                while k < svg.count, isDigit(svg[k]) { k += 1 }
                guard k > i + prefix.count else { continue }
                let token = Array(svg[i..<k])
                if renumbered[token] == nil {
                    counters[prefix, default: 0] += 1
                    renumbered[token] = prefix + Array(String(counters[prefix] ?? 0).utf8)
                }
                output.append(contentsOf: renumbered[token] ?? token)
                i = k
                continue scan
            }
        }
        return output
    }
}
