// Style: the default look of every figure (DejaVu Sans, sizes that read at LaTeX column width, thin frames,
// light grid). One value shared by a figure's axes. It deliberately has no themes or style sheets.

/// Sizes (points), colours and fonts of a figure.
public struct Style: Sendable, Equatable {
    /// Font family of every text. Default: DejaVu Sans.
    public var fontFamily = "DejaVu Sans"
    /// Tick labels, default 7 pt.
    public var tickLabelSize = 7.0
    /// Axis labels, default 8 pt.
    public var axisLabelSize = 8.0
    /// Axes titles (bold), default 8 pt; the figure title is 1 pt larger.
    public var titleSize = 8.0
    /// Legend entries, default 6.5 pt.
    public var legendSize = 6.5
    /// Marker-line labels, default 6 pt.
    public var annotationSize = 6.0
    /// Data lines, default 1.1 pt.
    public var lineWidth = 1.1
    /// Axes frame and ticks, default 0.6 pt.
    public var frameWidth = 0.6
    /// Grid lines, default 0.4 pt.
    public var gridWidth = 0.4
    /// Major tick length (outwards), default 3 pt; minor ticks are 60 % of it.
    public var tickLength = 3.0
    /// Gap between a tick and its label, and between stacked texts, default 2 pt.
    public var padding = 2.0
    /// Empty border around the whole figure, default 3 pt.
    public var figurePadding = 3.0
    /// Horizontal/vertical space between neighbouring axes' decorations, default 8 pt.
    public var axesSpacing = 8.0
    /// Scatter marker diameter, default 3.5 pt.
    public var markerSize = 3.5
    /// Preferred distance between x ticks, default 36 pt (fewer when labels would collide).
    public var xTickSpacing = 36.0
    /// Preferred distance between y ticks, default 26 pt.
    public var yTickSpacing = 26.0
    /// Text colour, default near black.
    public var textColor = Color.ink
    /// Frame and tick colour, default dark grey.
    public var frameColor = Color(red8: 0x33, green8: 0x33, blue8: 0x33)
    /// Grid line colour, default light grey.
    public var gridColor = Color.lightGray
    /// Figure background, default white.
    public var background = Color.white

    public init() {}

    var tickFont: Font { Font(family: fontFamily, size: tickLabelSize) }
    var labelFont: Font { Font(family: fontFamily, size: axisLabelSize) }
    var titleFont: Font { Font(family: fontFamily, size: titleSize, bold: true) }
    var figureTitleFont: Font { Font(family: fontFamily, size: titleSize + 1, bold: true) }
    var legendFont: Font { Font(family: fontFamily, size: legendSize) }
    var annotationFont: Font { Font(family: fontFamily, size: annotationSize) }
}
