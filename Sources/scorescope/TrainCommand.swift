// `scorescope train`: resolve a config (presets, file, --set overrides) and run it in a folder, resuming what
// the folder holds. Parsing and wiring only; the loop, checkpoints, signals and messages live in Experiments
// (Trainer, runTraining).
import ArgumentParser
import Foundation
import Experiments

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a MoCo learner, recording per-step score histograms in DIR/run.sqlite (resumes DIR's run).",
        discussion: """
        Presets (--preset, repeatable, applied in order; later ones win):
        \(TrainConfig.presetNames.map { "  \($0.padding(toLength: 10, withPad: " ", startingAt: 0)) \(TrainConfig.presetSummaries[$0] ?? "")" }.joined(separator: "\n"))

        The config is built from the defaults (= full), then each --preset, then --config FILE (a JSON object of \
        config keys), then each --set key=value in order. Keys are dotted paths; values are numbers, true/false, \
        names, or lists such as 30,40. Examples: --set momentum=0.9 --set ft.positive=extrapolate \
        --set knn.every=2 --set "dataset=fashion-mnist?limit=5000". Every key:
        \(TrainConfig.keyPaths.joined(separator: ", ")).

        Running train again on the same --out folder resumes it from its checkpoint (same config required; with \
        no --preset/--config/--set the stored config is used); a finished run is left alone. SIGINT/SIGTERM write \
        a checkpoint and exit 0.

        Exit codes: 0 finished, interrupted (resumable) or already finished; 1 error; \(TrainingExitCode.diverged) \
        the loss diverged (NaN/Inf).
        """
    )

    @Option(name: .customLong("preset"), help: "A preset (repeatable): \(TrainConfig.presetNames.joined(separator: ", ")).")
    var presets: [String] = []

    @Option(name: .customLong("config"), help: "A JSON file of config keys, applied after the presets.")
    var configFile: String?

    @Option(name: .customLong("set"), help: "key=value override (repeatable, applied last, in order).")
    var overrides: [String] = []

    @Option(help: "The run folder (created if missing).")
    var out: String

    @Option(help: "Worker threads (default: the config's `threads`, 0 = all cores). Never changes a result.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if out.isEmpty { throw ValidationError("--out needs a folder") }
        _ = try resolvedConfig()
    }

    /// The config to run: from the options, or the one stored in --out when no config option is given.
    func resolvedConfig() throws -> TrainConfig {
        do {
            if presets.isEmpty && configFile == nil && overrides.isEmpty, let stored = try TrainConfig.stored(inRunFolder: out) {
                return stored
            }
            return try TrainConfig.resolve(presets: presets, configFile: configFile, overrides: overrides)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let code = runTraining(config: try resolvedConfig(), directory: out, threads: threads,
                               scorescopeVersion: scorescopeVersion)
        if code != 0 { throw ExitCode(code) }
    }
}
