// RecordingError: the one error type of the Recording module (bad specs, bad scores, and every run store
// failure), each message naming the file or folder and what is wrong.
// Deliberately not here: recovery policy (callers decide whether to retry, resume or stop).
import Foundation

/// Errors of histograms and run stores. `description` is a complete sentence for the user.
public enum RecordingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A histogram spec with non-finite or inverted edges or a bad bin count.
    case invalidHistogramSpec(String)
    /// A stored histogram whose parts contradict each other.
    case corruptHistogram(String)
    /// Score buffers of inconsistent shapes.
    case invalidScores(String)
    /// Another process (pid if known) holds the writer lock of the run folder.
    case storeLocked(directory: String, holderPID: Int32?)
    /// No run store at the path.
    case storeNotFound(path: String)
    /// The store was written with a newer schema than this build understands.
    case schemaTooNew(path: String, found: Int, supported: Int)
    /// The store's schema is older than this build reads; opening it for writing migrates it.
    case schemaTooOld(path: String, found: Int, supported: Int)
    /// The store is not a scorescope run store or its content is damaged.
    case corruptStore(path: String, reason: String)
    /// A step that is already in the store was recorded again (resume without `deleteSteps(after:)`?).
    case stepAlreadyRecorded(path: String, step: Int)
    /// A SQLite or file system failure, with the underlying message.
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidHistogramSpec(let why): return "invalid histogram spec: \(why)"
        case .corruptHistogram(let why): return "inconsistent histogram: \(why)"
        case .invalidScores(let why): return "invalid scores: \(why)"
        case .storeLocked(let directory, let pid):
            let holder = pid.map { "process \($0)" } ?? "another process"
            return "run folder \(directory) is already being written by \(holder) (lock file \(RunStore.lockFileName));"
                + " wait for it to finish or stop it; reading (inspect, analyze, plot) works meanwhile"
        case .storeNotFound(let path): return "no run store at \(path) (expected a folder containing \(RunStore.fileName))"
        case .schemaTooNew(let path, let found, let supported):
            return "run store \(path) has schema version \(found), newer than the \(supported) this scorescope "
                + "understands: use a newer scorescope"
        case .schemaTooOld(let path, let found, let supported):
            return "run store \(path) has schema version \(found), older than the \(supported) this scorescope reads: "
                + "open it for writing once (e.g. resume the run) to migrate it"
        case .corruptStore(let path, let reason): return "run store \(path) is damaged or not a scorescope store: \(reason)"
        case .stepAlreadyRecorded(let path, let step):
            return "step \(step) is already recorded in \(path) (delete later steps before re-recording them)"
        case .io(let path, let message): return "run store \(path): \(message)"
        }
    }
}

extension RecordingError: LocalizedError {
    public var errorDescription: String? { description }
}
