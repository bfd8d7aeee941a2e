// Figure: a page of a given size in points holding a grid of Axes, with optional shared axes and a title;
// lays itself out from measured text and renders through any Renderer or to PNG/SVG/PDF files.
// It deliberately is a value: build it, then render or write it; nothing is drawn until then.

import Foundation

/// Page sizes for LaTeX papers.
public enum FigureSize: Sendable, Equatable {
    /// One column of a two-column paper: 241 pt wide (3.35 in).
    case column
    /// The full text width: 505 pt wide (7 in).
    case text
    /// Any width and height in points.
    case points(width: Double, height: Double)

    /// Width of `.column` in points.
    public static let columnWidth = 241.0
    /// Width of `.text` in points.
    public static let textWidth = 505.0
}

/// Which panels share an axis' limits (and hide the inner tick labels).
public enum AxisSharing: Sendable, Equatable {
    case none
    /// Every panel.
    case all
    /// Panels in the same row.
    case row
    /// Panels in the same column.
    case column
}

/// A figure: size, grid of panels, style.
public struct Figure: Sendable {
    /// Page width in points.
    public var width: Double
    /// Page height in points.
    public var height: Double
    /// Rows of panels.
    public let rows: Int
    /// Columns of panels.
    public let columns: Int
    /// Bold title centred above all panels. Default none.
    public var title: String?
    /// Default `Style()`.
    public var style = Style()
    /// How x limits are shared. Default `.none`; `.column` and `.all` hide x tick labels above the bottom row.
    public var sharedX: AxisSharing = .none
    /// How y limits are shared. Default `.none`; `.row` and `.all` hide y tick labels right of the first column.
    public var sharedY: AxisSharing = .none
    var panels: [Axes]

    /// A figure of `width`×`height` points with a `rows`×`columns` grid of panels (default 1×1).
    public init(width: Double, height: Double, rows: Int = 1, columns: Int = 1) {
        precondition(rows >= 1 && columns >= 1, "a figure needs at least one row and column, got \(rows)×\(columns)")
        self.width = width
        self.height = height
        self.rows = rows
        self.columns = columns
        panels = Array(repeating: Axes(), count: rows * columns)
    }

    /// A figure of a paper size. `height` nil (default) gives panels about 3:4 high plus room for labels.
    public init(size: FigureSize = .column, rows: Int = 1, columns: Int = 1, height: Double? = nil) {
        let width: Double
        var h = height
        switch size {
        case .column: width = FigureSize.columnWidth
        case .text: width = FigureSize.textWidth
        case let .points(w, ph): width = w; h = h ?? ph
        }
        let panelWidth = width / Double(Swift.max(columns, 1))
        self.init(width: width, height: h ?? (Double(rows) * (panelWidth * 0.68 + 22) + 6), rows: rows, columns: columns)
    }

    /// The panel at `row`, `column` (0-based), for reading or changing in place: `figure[0, 1].line(...)`.
    public subscript(row: Int, column: Int) -> Axes {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "panel (\(row), \(column)) is outside the \(rows)×\(columns) grid")
            return panels[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "panel (\(row), \(column)) is outside the \(rows)×\(columns) grid")
            panels[row * columns + column] = newValue
        }
    }

    /// All panels, row by row.
    public var allAxes: [Axes] { panels }

    /// Skipped values over all panels (NaN/Inf, and values a log axis cannot show).
    public var skippedPoints: SkippedPoints {
        panels.reduce(SkippedPoints()) {
            let s = $1.skippedPoints
            return SkippedPoints(nonFinite: $0.nonFinite + s.nonFinite, outsideLogDomain: $0.outsideLogDomain + s.outsideLogDomain)
        }
    }

    /// PNG size in pixels at `dpi`.
    public func pixelSize(dpi: Double = 200) -> (width: Int, height: Int) {
        (Int((width * dpi / 72).rounded()), Int((height * dpi / 72).rounded()))
    }

    /// Draws the figure (background, panels, title) through `renderer`.
    public func render(to renderer: some Renderer) {
        let layout = self.layout(measuringWith: renderer)
        renderer.fill(.rect(Rect(x: 0, y: 0, width: width, height: height)), color: style.background)
        for (index, axes) in panels.enumerated() {
            AxesPainter(axes: axes, layout: layout.axes[index], style: style, renderer: renderer).draw()
        }
        if let title {
            renderer.text(title, at: Point(width / 2, style.figurePadding), font: style.figureTitleFont,
                          color: style.textColor, anchor: TextAnchor(.center, .top), rotation: 0)
        }
    }
}
