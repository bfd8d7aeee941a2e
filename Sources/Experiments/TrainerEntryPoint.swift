// TrainerEntryPoint: one call that runs a training end to end the way the command line does (signals, progress,
// messages, exit code), for `scorescope train` and for `scorescope sweep task` (one Slurm array task). Also the
// stored config of a run folder, so `train --out DIR` without any config option resumes the run in DIR.
// Exit codes: 0 = finished, already finished, or interrupted with a checkpoint (run again to resume);
// 1 = an error (message on the console's error sink: bad config, data, locked folder, I/O);
// 3 = `divergedExitCode` (the loss became NaN/Inf; the run is marked diverged and stays so).
// Deliberately not here: argument parsing (the executable), the loop (Trainer.swift).
import Foundation
import Recording

/// Exit codes of `scorescope train` and `runTraining`.
public enum TrainingExitCode {
    /// Finished, already finished, or interrupted after writing a checkpoint.
    public static let success: Int32 = 0
    /// Any error; the message says what and where.
    public static let failure: Int32 = 1
    /// The loss diverged (NaN/Inf): `divergedExitCode`.
    public static let diverged: Int32 = divergedExitCode
}

/// Trains `config` in run folder `directory` (creating, resuming or reporting it), printing progress on `console`
/// and returning the exit code (see `TrainingExitCode`).
/// - Parameters:
///   - threads: worker threads; nil (default) = `config.effectiveThreads`. Never changes a result.
///   - scorescopeVersion: recorded in a new store.
///   - console: where progress and messages go; default standard output (a bar on a terminal) and standard error.
///   - handleSignals: route SIGINT/SIGTERM to a clean stop with a checkpoint (default true; a second signal exits
///     at once).
public func runTraining(config: TrainConfig, directory: String, threads: Int? = nil, scorescopeVersion: String,
                        console: TrainingConsole = .standard, handleSignals: Bool = true) -> Int32 {
    let stop = StopRequest()
    if handleSignals { stop.installSignalHandlers() }
    let reporter = ProgressReporter(console: console)
    let trainer = Trainer(config: config, directory: directory, threads: threads, scorescopeVersion: scorescopeVersion,
                          stop: stop, observer: { reporter.handle($0) })
    let outcome: TrainingOutcome
    do {
        outcome = try trainer.run()
    } catch {
        reporter.finish()
        console.writeError("error: \(error)")
        return TrainingExitCode.failure
    }
    reporter.finish()
    switch outcome {
    case .finished(let steps):
        let evals = (try? RunReader(directory: directory).evals()) ?? []
        let accuracies = [EvalKind.knn, .linear].compactMap { kind in
            evals.last { $0.kind == kind }.map { "\(kind) top-1 \(String(format: "%.2f", $0.top1)) %" }
        }
        console.write("finished: \(steps) steps" + (accuracies.isEmpty ? "" : "; " + accuracies.joined(separator: ", "))
            + " (\(directory))\n")
        return TrainingExitCode.success
    case .alreadyFinished(let steps):
        console.write("\(directory): this run is already finished (\(steps) steps); nothing to do\n")
        return TrainingExitCode.success
    case .interrupted(let step):
        console.write("interrupted (\(stop.reason ?? "stop requested")): checkpoint written after step \(step); "
            + "run the same command again to resume\n")
        return TrainingExitCode.success
    case let .diverged(step, loss):
        console.writeError("diverged: the loss was \(loss) at step \(step); \(directory) is marked diverged "
            + "(everything recorded up to it is kept). Lower lr or change the config, in a new --out folder")
        return TrainingExitCode.diverged
    }
}

extension TrainConfig {
    /// The config stored in the run folder `directory` (nil when there is no store or it holds no config yet).
    /// Throws when the store cannot be read or its config is not valid.
    public static func stored(inRunFolder directory: String) throws -> TrainConfig? {
        guard RunReader.isRunDirectory(directory) else { return nil }
        guard let json = try RunReader(directory: directory).configJSON() else { return nil }
        return try TrainConfig.decode(json: json, origin: "\(directory)/\(RunStore.fileName) (meta.config)")
    }
}
