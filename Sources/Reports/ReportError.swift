// ReportError: the one typed error of the Reports module: bad options, runs that lack what a figure needs, and
// the store, plotting and file errors underneath, each with a message that names the run or file.
// It deliberately does not cover programmer errors (preconditions) nor NaN values in series (the plotting
// library skips and counts those).
import Foundation
import Plotting

/// Everything that can go wrong while drawing a figure or writing a report.
public enum ReportError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An option value that cannot work (unknown series, epoch not recorded, bad size text, ...).
    case badOption(String)
    /// No run store was found where runs were expected.
    case noRuns(String)
    /// A run lacks data the figure needs: `run` names the folder, `what` says what is missing and why it matters.
    case missingData(run: String, what: String)
    /// A run store could not be read (the store's own message, naming the file).
    case store(String)
    /// Drawing or writing the figure failed.
    case plot(PlotError)
    /// A report file could not be written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .badOption(let why): return why
        case .noRuns(let why): return why
        case .missingData(let run, let what): return "run '\(run)' \(what)"
        case .store(let why): return why
        case .plot(let error): return error.description
        case .io(let path, let reason): return "cannot write '\(path)': \(reason)"
        }
    }
}

extension ReportError: LocalizedError {
    public var errorDescription: String? { description }
}

extension ReportError {
    /// Runs `body`, turning any non-Report error into a `ReportError` (store errors keep their message).
    static func wrap<T>(_ body: () throws -> T) throws(ReportError) -> T {
        do {
            return try body()
        } catch let error as ReportError {
            throw error
        } catch let error as PlotError {
            throw ReportError.plot(error)
        } catch {
            throw ReportError.store("\(error)")
        }
    }
}
