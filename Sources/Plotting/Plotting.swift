// Plotting: a small plotting library for paper figures (imports only CCairo and Foundation).
//
// Shape (after plotters' backend split and matplotlib's Figure/Axes/Artist split):
//   Figure (page in points, grid of Axes, shared axes)  ->  Figure+Layout (ticks + margins from measured text)
//   Axes (artists, scales, limits, labels, legend, markers)  ->  AxesPainter (draws one placed Axes)
//   Renderer protocol  <-  CairoRenderer (PNG/SVG/PDF, deterministic bytes), RecordingRenderer (tests)
// Typical use:
//   var figure = Figure(size: .column)
//   try figure[0, 0].line(x: steps, y: variance, label: "m=0.99")
//   figure[0, 0].xTickFormat = .iterations
//   try figure.write(to: "variance.pdf")
// It deliberately has no interactive backends, no animation and no general-purpose 3-D: the oblique ribbon
// view is the one 3-D figure the paper needs.

/// Facts about the `Plotting` module.
public enum PlottingModule {
    /// The module's name, as used in diagnostics.
    public static let name = "Plotting"
}
