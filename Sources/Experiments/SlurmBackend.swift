// SlurmBackend: a sweep as a Slurm job array.
//
// The sweep writes a manifest (one JSON line per run: index, name, output folder, resolved config) and an
// sbatch script whose array index selects a manifest line; each task runs `scorescope sweep task`, which
// trains that run (resuming when a checkpoint exists). Before the time limit Slurm sends SIGTERM (`--signal`);
// the script forwards it, the run checkpoints and exits, and the script requeues the task, which resumes.
// Deliberately not here: accounting (sacct needs slurmdbd), or anything beyond sbatch/squeue/scontrol.
import Foundation

/// Options passed through to sbatch.
public struct SlurmOptions: Sendable, Equatable {
    /// CPUs per task (`--cpus-per-task`); the run uses that many threads. Default 2.
    public var cpusPerTask = 2
    /// Time limit per task (`--time`), e.g. "01:00:00". Default 2 hours.
    public var time = "02:00:00"
    /// Partition (`--partition`); nil = the cluster's default.
    public var partition: String?
    /// Account (`--account`); nil = the user's default.
    public var account: String?
    /// At most this many tasks at once (`--array=...%N`); nil = no limit.
    public var maxConcurrent: Int?
    /// Memory per task (`--mem`), e.g. "4G"; nil = the cluster's default.
    public var memory: String?
    /// Seconds before the time limit at which the run is told to checkpoint (`--signal=B:TERM@N`). Default 120.
    public var signalSeconds = 120
    /// Extra sbatch words, appended as `#SBATCH` lines.
    public var extra: [String] = []

    public init() {}

    /// Options from a sweep file's `"slurm"` object (keys: cpusPerTask, time, partition, account,
    /// maxConcurrent, memory, signalSeconds, extra).
    public init(json pairs: [(String, JSONValue)]) throws {
        for (k, v) in pairs {
            switch (k, v) {
            case let ("cpusPerTask", .number(d)) where d >= 1 && d == d.rounded(): cpusPerTask = Int(d)
            case let ("time", .string(s)): time = s
            case let ("partition", .string(s)): partition = s
            case let ("account", .string(s)): account = s
            case let ("maxConcurrent", .number(d)) where d >= 1 && d == d.rounded(): maxConcurrent = Int(d)
            case let ("memory", .string(s)): memory = s
            case let ("signalSeconds", .number(d)) where d >= 1 && d == d.rounded(): signalSeconds = Int(d)
            case let ("extra", .array(a)): extra = a.map(\.plainText)
            default:
                throw SweepError("\"slurm\": bad or unknown option \"\(k)\": \(v.jsonText) (known: cpusPerTask, time, partition, account, maxConcurrent, memory, signalSeconds, extra)")
            }
        }
    }

    /// Validates values that sbatch would otherwise reject late.
    public func validate() throws {
        if cpusPerTask < 1 { throw SweepError("--cpus-per-task must be ≥ 1 (got \(cpusPerTask))") }
        let parts = time.split(separator: "-").flatMap { $0.split(separator: ":") }
        if time.isEmpty || parts.isEmpty || !parts.allSatisfy({ Int($0) != nil }) {
            throw SweepError("--time must look like MM, HH:MM:SS or D-HH:MM:SS (got \"\(time)\")")
        }
        if let m = maxConcurrent, m < 1 { throw SweepError("--max-concurrent must be ≥ 1 (got \(m))") }
        for word in [partition, account, memory].compactMap({ $0 }) + extra where word.contains("\n") {
            throw SweepError("sbatch options must not contain newlines")
        }
    }
}

/// One manifest line: a run of the sweep with its resolved configuration.
public struct ManifestEntry: Sendable, Equatable {
    public var index: Int
    public var name: String
    /// The run's folder (absolute).
    public var outputDirectory: String
    /// The resolved training configuration (JSON).
    public var config: JSONValue

    public init(index: Int, name: String, outputDirectory: String, config: JSONValue) {
        self.index = index
        self.name = name
        self.outputDirectory = outputDirectory
        self.config = config
    }

    /// The manifest line (compact JSON, no newline).
    public var line: String {
        JSONValue.object([("index", .number(Double(index))), ("name", .string(name)),
                          ("out", .string(outputDirectory)), ("config", config)]).jsonText
    }

    /// Parses a manifest line.
    public init(line: String) throws {
        let v: JSONValue
        do { v = try JSONValue.parse(line) } catch { throw SweepError("manifest line is not JSON: \(error)") }
        guard case let .number(i)? = v["index"], case let .string(n)? = v["name"], case let .string(o)? = v["out"],
              let c = v["config"] else {
            throw SweepError("manifest line lacks index, name, out or config")
        }
        self.init(index: Int(i), name: n, outputDirectory: o, config: c)
    }
}

/// Generates and submits sbatch job-array scripts.
public enum SlurmBackend {
    /// Reads entry `index` of a manifest file.
    public static func entry(manifest path: String, index: Int) throws -> ManifestEntry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SweepError("\(path): cannot read the manifest")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard index >= 0 && index < lines.count else {
            throw SweepError("\(path): no manifest line for index \(index) (it has \(lines.count))")
        }
        return try ManifestEntry(line: String(lines[index]))
    }

    /// The sbatch script for `count` tasks. `executable` is the absolute path of `scorescope`.
    public static func script(sweepName: String, count: Int, manifest: String, logDirectory: String,
                              executable: String, options: SlurmOptions) -> String {
        var array = "0-\(max(count - 1, 0))"
        if let m = options.maxConcurrent { array += "%\(m)" }
        var lines = [
            "#!/bin/bash",
            "# scorescope sweep \(sweepName): \(count) runs as a Slurm job array (generated; edit the sweep file instead).",
            "#SBATCH --job-name=scorescope-\(sweepName)",
            "#SBATCH --array=\(array)",
            "#SBATCH --cpus-per-task=\(options.cpusPerTask)",
            "#SBATCH --ntasks=1",
            "#SBATCH --time=\(options.time)",
            "#SBATCH --output=\(logDirectory)/%A_%a.out",
            "#SBATCH --error=\(logDirectory)/%A_%a.out",
            "#SBATCH --requeue",
            "#SBATCH --open-mode=append",
            "#SBATCH --signal=B:TERM@\(options.signalSeconds)",
        ]
        if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
        if let a = options.account { lines.append("#SBATCH --account=\(a)") }
        if let m = options.memory { lines.append("#SBATCH --mem=\(m)") }
        for e in options.extra { lines.append("#SBATCH \(e)") }
        lines += [
            "",
            "set -u",
            "export OPENBLAS_NUM_THREADS=1",
            "# sbatch exports the submitting process's environment, including the OpenBLAS kernel its own start-up",
            "# picked for the submitting machine: drop that choice (not one the user set) so the task picks for its node.",
            "if [ -n \"${SCORESCOPE_BLAS_SELECTED:-}\" ]; then unset OPENBLAS_CORETYPE SCORESCOPE_BLAS_SELECTED; fi",
            "EXE=\(shellQuote(executable))",
            "MANIFEST=\(shellQuote(manifest))",
            "TASK=\"${SLURM_ARRAY_TASK_ID:?not running as an array task}\"",
            "term=0",
            "# Before the time limit Slurm signals this shell; the run checkpoints, then the task is requeued and resumes.",
            "trap 'term=1; kill -TERM \"$child\" 2>/dev/null' TERM",
            "\"$EXE\" sweep task --manifest \"$MANIFEST\" --index \"$TASK\" --threads \"${SLURM_CPUS_PER_TASK:-1}\" &",
            "child=$!",
            "wait \"$child\"; rc=$?",
            "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; rc=$?; done",
            "if [ \"$term\" = 1 ]; then",
            "  echo \"scorescope: task $TASK checkpointed before the time limit; requeueing\"",
            "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${TASK}\"",
            "  exit 0",
            "fi",
            "exit $rc",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Single-quotes a word for bash.
    public static func shellQuote(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Submits a script with `sbatch --parsable` (and `--wait`: returns when every task has ended); returns the
    /// job id. Throws with sbatch's message on failure (with `--wait`, a failed task makes sbatch exit non-zero,
    /// which is not an error here: the caller reads task states from the run stores).
    public static func submit(script path: String, wait: Bool = false) throws -> String {
        let (rc, out, err) = try run(["sbatch", "--parsable"] + (wait ? ["--wait"] : []) + [path])
        let printedID = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").first
            .map { String($0.split(separator: ";").first ?? "") } ?? ""
        guard rc == 0 || (wait && !printedID.isEmpty && printedID.allSatisfy(\.isNumber)) else {
            throw SweepError("sbatch failed (exit \(rc)): \(err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        let id = printedID
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw SweepError("sbatch printed no job id: \(out)") }
        return id
    }

    /// Task states of a job array from `squeue` (task index → state), or nil when squeue is unavailable.
    public static func taskStates(jobID: String) -> [Int: String]? {
        guard let (rc, out, _) = try? run(["squeue", "-h", "-r", "-t", "all", "-j", jobID, "-o", "%K %T"]), rc == 0 else {
            return nil
        }
        var states: [Int: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let i = Int(parts[0]) { states[i] = String(parts[1]) }
        }
        return states
    }

    /// Runs a program found on PATH; returns (exit code, stdout, stderr).
    static func run(_ argv: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw SweepError("cannot run \(argv[0]): \(error)") }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
