// PlotError: the one typed error of the Plotting module (bad data, bad paths, unknown formats, Cairo failures).
// It deliberately does not cover programmer errors such as an axes index outside the grid (those are
// preconditions), nor NaN/Inf values, which are skipped and counted rather than thrown (see `Axes.skippedPoints`).

/// Everything that can go wrong when building or writing a figure, with a message naming the culprit.
public enum PlotError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An artist was given no data at all (`what` names the artist and its label).
    case emptyData(what: String)
    /// Two arrays that must match in length do not.
    case lengthMismatch(what: String, expected: Int, actual: Int)
    /// Bin or cell edges are not strictly increasing, or not finite.
    case invalidEdges(what: String)
    /// A parameter is outside its valid range (a negative width, a DPI of zero, ...).
    case invalidParameter(what: String)
    /// The file name ends in an extension no surface can write; `known` lists the ones that work.
    case unknownFormat(path: String, known: [String])
    /// The file could not be written (missing folder, no permission, disk full, ...).
    case unwritablePath(path: String, reason: String)
    /// Cairo reported a failure while drawing or encoding.
    case cairo(status: String)

    public var description: String {
        switch self {
        case let .emptyData(what): return "plot: \(what) has no data points"
        case let .lengthMismatch(what, expected, actual):
            return "plot: \(what) has \(actual) values where \(expected) were expected"
        case let .invalidEdges(what): return "plot: \(what) must be finite and strictly increasing"
        case let .invalidParameter(what): return "plot: \(what)"
        case let .unknownFormat(path, known):
            return "plot: cannot tell the format of '\(path)': use one of \(known.map { "." + $0 }.joined(separator: ", "))"
        case let .unwritablePath(path, reason): return "plot: cannot write '\(path)': \(reason)"
        case let .cairo(status): return "plot: cairo failed: \(status)"
        }
    }
}
