// `scorescope sweep FILE`: run a sweep's grid locally (N runs at a time) or as a Slurm job array;
// `sweep status DIR` and `sweep task` (what each Slurm array task runs).
import ArgumentParser
import Experiments
import Foundation
import Recording

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep (grid × seeds of trainings) locally or on Slurm, resumably.",
        discussion: """
        A sweep file (experiments/<name>/sweep.json) holds a base preset and overrides, grid axes over any config key, \
        seeds and optional extra runs. Every grid point × seed is one run in <out>/<run-name>/ (e.g. m0.99-s1). \
        Running the same sweep again skips finished runs and resumes interrupted ones.

        Examples:
          scorescope sweep experiments/quick-demo/sweep.json --jobs 2
          scorescope sweep experiments/momentum-sweep/sweep.json --backend slurm --partition gpu --time 04:00:00
          scorescope sweep status runs/quick-demo
        """,
        subcommands: [SweepRun.self, SweepStatus.self, SweepTask.self],
        defaultSubcommand: SweepRun.self
    )
}

/// Locates the `scorescope` executable of this process (children and Slurm tasks run the same binary).
func currentExecutablePath() -> String {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
}

/// Reads a run folder's state from its store (missing when there is no store yet).
@Sendable func runState(_ directory: String) -> RunState {
    guard RunReader.isRunDirectory(directory), let reader = try? RunReader(directory: directory) else { return .missing }
    switch (try? reader.status()) ?? nil {
    case .finished?: return .finished
    case .diverged?: return .diverged
    case .failed?: return .failed
    case .interrupted?: return .interrupted
    case .running?: return .running
    case nil: return .missing
    }
}

func printError(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every run of a sweep file (the default subcommand: `scorescope sweep FILE`).")

    @Argument(help: "The sweep file, e.g. experiments/quick-demo/sweep.json.")
    var file: String

    @Option(name: .shortAndLong, help: "Runs at once (local backend); each gets cores/N threads.")
    var jobs = 1

    @Option(help: "Output folder (default: runs/<sweep name>).")
    var out: String?

    @Option(help: "Where to run: local (child processes here) or slurm (a job array submitted with sbatch).")
    var backend: Backend = .local

    @Flag(help: "Slurm: write the manifest and print the sbatch script without submitting.")
    var dryRun = false

    @Flag(help: "Slurm: wait until the job array has finished (sbatch --wait), then print the status.")
    var wait = false

    @Option(help: "Slurm: CPUs per task (default: the sweep file's, else 2).") var cpusPerTask: Int?
    @Option(help: "Slurm: time limit per task, e.g. 01:00:00.") var time: String?
    @Option(help: "Slurm: partition.") var partition: String?
    @Option(help: "Slurm: account.") var account: String?
    @Option(help: "Slurm: at most this many tasks at once.") var maxConcurrent: Int?

    enum Backend: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1 (got \(jobs))") }
        if let c = cpusPerTask, c < 1 { throw ValidationError("--cpus-per-task must be at least 1 (got \(c))") }
        if let m = maxConcurrent, m < 1 { throw ValidationError("--max-concurrent must be at least 1 (got \(m))") }
        if backend == .local && (dryRun || wait) { throw ValidationError("--dry-run and --wait apply to --backend slurm only") }
    }

    func run() throws {
        let spec: SweepSpec
        do { spec = try SweepSpec(contentsOf: file) } catch { throw ValidationError("\(error)") }
        let runs = try spec.plan()
        let outDir = URL(fileURLWithPath: out ?? "runs/\(spec.name)").standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let sweepDir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let configFile = spec.baseConfigFile.map { ($0 as NSString).isAbsolutePath ? $0 : sweepDir + "/" + $0 }
        // Keep a copy of the sweep file with the runs, for reports and `sweep status`.
        let copy = outDir + "/sweep.json"
        if FileManager.default.fileExists(atPath: copy) { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: file, toPath: copy)

        switch backend {
        case .local:
            var base = ["train", "--preset", spec.basePreset]
            if let c = configFile { base += ["--config", c] }
            let runner = SweepRunner(executable: currentExecutablePath(), baseArguments: base, jobs: jobs,
                                     state: runState, log: { print($0); fflush(nil) })
            runner.installSignalHandlers()
            print("sweep \(spec.name): \(runs.count) runs, \(jobs) at a time, \(runner.threadsPerRun) thread(s) each → \(outDir)")
            let summary = runner.run(runs, outputDirectory: outDir)
            printSummary(summary)
            if summary.interrupted { throw ExitCode(130) }
            if summary.failedCount > 0 { throw ExitCode(1) }
        case .slurm:
            var options = try SlurmOptions(json: spec.slurm)
            if let c = cpusPerTask { options.cpusPerTask = c }
            if let t = time { options.time = t }
            if let p = partition { options.partition = p }
            if let a = account { options.account = a }
            if let m = maxConcurrent { options.maxConcurrent = m }
            do { try options.validate() } catch { throw ValidationError("\(error)") }
            var lines: [String] = []
            for (i, r) in runs.enumerated() {
                let config = try resolvedConfiguration(preset: spec.basePreset, configFile: configFile, run: r)
                lines.append(ManifestEntry(index: i, name: r.name, outputDirectory: outDir + "/" + r.name, config: config).line)
            }
            let manifest = outDir + "/manifest.jsonl"
            try (lines.joined(separator: "\n") + "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
            let logs = outDir + "/slurm"
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            let script = SlurmBackend.script(sweepName: spec.name, count: runs.count, manifest: manifest,
                                             logDirectory: logs, executable: currentExecutablePath(), options: options)
            let scriptPath = outDir + "/sweep.sbatch"
            try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
            if dryRun {
                print(script, terminator: "")
                printError("sweep: dry run: wrote \(manifest) (\(runs.count) lines) and \(scriptPath); not submitted")
                return
            }
            let id = try SlurmBackend.submit(script: scriptPath, wait: wait)
            try (id + "\n").write(toFile: outDir + "/slurm-job-id", atomically: true, encoding: .utf8)
            print("submitted job array \(id) (\(runs.count) tasks); status: scorescope sweep status \(outDir)")
            if wait {
                let status = SweepStatus.table(directory: outDir)
                print(status.text)
                if status.failed > 0 { throw ExitCode(1) }
            }
        }
    }

    private func printSummary(_ s: SweepSummary) {
        print("summary:")
        for (name, outcome) in s.outcomes {
            let text: String
            switch outcome {
            case .skipped(let st): text = "skipped (\(st.rawValue))"
            case .finished(let secs): text = "finished in \(SweepRunner.format(seconds: secs))"
            case .failed(let code, _): text = "FAILED (exit \(code))"
            case .diverged: text = "DIVERGED"
            case .interrupted: text = "interrupted (resumes next time)"
            case .notStarted: text = "not started"
            }
            print("  \(name): \(text)")
        }
        if s.failedCount > 0 { print("\(s.failedCount) run(s) failed or diverged") }
    }
}

struct SweepStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the state of every run of a sweep folder (and of its Slurm tasks when squeue is available).")

    @Argument(help: "The sweep's output folder (e.g. runs/quick-demo).")
    var directory: String

    func validate() throws {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) || !isDir.boolValue {
            throw ValidationError("\(directory) is not a folder")
        }
    }

    func run() throws {
        let t = Self.table(directory: directory)
        print(t.text)
    }

    static func table(directory: String) -> (text: String, failed: Int) {
        var names: [String] = []
        if let spec = try? SweepSpec(contentsOf: directory + "/sweep.json"), let runs = try? spec.plan() {
            names = runs.map(\.name)
        } else {
            names = RunReader.findRuns(under: directory, maxDepth: 1).map { ($0 as NSString).lastPathComponent }.sorted()
        }
        var slurm: [Int: String] = [:]
        if let id = try? String(contentsOfFile: directory + "/slurm-job-id", encoding: .utf8) {
            slurm = SlurmBackend.taskStates(jobID: id.trimmingCharacters(in: .whitespacesAndNewlines)) ?? [:]
        }
        var lines = ["run\tstate\tsteps\tlast loss\tkNN top-1" + (slurm.isEmpty ? "" : "\tslurm")]
        var failed = 0
        var counts: [String: Int] = [:]
        for (i, name) in names.enumerated() {
            let dir = directory + "/" + name
            let state = runState(dir)
            if state == .failed || state == .diverged { failed += 1 }
            counts[state.rawValue, default: 0] += 1
            var steps = "-", loss = "-", knn = "-"
            if let r = try? RunReader(directory: dir) {
                steps = String((try? r.stepCount()) ?? 0)
                if let l = try? r.lastSteps(1).last { loss = String(format: "%.4f", l.loss) }
                if let e = try? r.evals(kind: .knn).last { knn = String(format: "%.1f", e.top1) }
            }
            lines.append("\(name)\t\(state.rawValue)\t\(steps)\t\(loss)\t\(knn)" + (slurm.isEmpty ? "" : "\t\(slurm[i] ?? "-")"))
        }
        lines.append(counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        return (lines.joined(separator: "\n"), failed)
    }
}

/// The fully resolved training configuration of a planned run (base preset, config file, run presets, overrides).
func resolvedConfiguration(preset: String, configFile: String?, run: PlannedRun) throws -> JSONValue {
    let config: TrainConfig
    do {
        config = try TrainConfig.resolve(presets: [preset] + run.presets, configFile: configFile,
                                         overrides: run.settingOverrides)
    } catch {
        throw ValidationError("run \(run.name): \(error)")
    }
    return try JSONValue.parse(config.jsonString())
}

struct SweepTask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Run one entry of a sweep manifest (what each Slurm array task runs).",
        discussion: """
        Reads line INDEX of the manifest, writes its resolved configuration to <run>/config.json and becomes \
        `scorescope train --config <run>/config.json --out <run>` (same process, so Slurm's SIGTERM reaches the \
        training loop, which checkpoints; a requeued task resumes from that checkpoint).
        """)

    @Option(help: "The manifest written by `scorescope sweep --backend slurm` (one JSON line per run).")
    var manifest: String

    @Option(help: "The line to run (0-based; the Slurm array index).")
    var index: Int

    @Option(help: "Threads for the run (default: all cores).")
    var threads: Int?

    func validate() throws {
        if index < 0 { throw ValidationError("--index must be 0 or more (got \(index))") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1 (got \(t))") }
    }

    func run() throws {
        let entry: ManifestEntry
        do { entry = try SlurmBackend.entry(manifest: manifest, index: index) } catch { throw ValidationError("\(error)") }
        try FileManager.default.createDirectory(atPath: entry.outputDirectory, withIntermediateDirectories: true)
        let configPath = entry.outputDirectory + "/config.json"
        try (entry.config.jsonText + "\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        var argv = ["scorescope", "train", "--config", configPath, "--out", entry.outputDirectory]
        if let t = threads { argv += ["--threads", String(t)] }
        print("sweep task \(index): \(entry.name) → \(entry.outputDirectory)")
        fflush(nil)
        let exe = currentExecutablePath()
        let cArgs = argv.map { strdup($0) } + [nil]
        execv(exe, cArgs)
        throw ValidationError("cannot execute \(exe): \(String(cString: strerror(errno)))")
    }
}
