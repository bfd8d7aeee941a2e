// SweepRunner: runs a sweep's planned runs as child processes on this machine, N at a time.
//
// Each run is its own `scorescope train` process (output appended to `<run>/train.log`), given cores/N
// threads. Finished runs are skipped, interrupted ones resume (train resumes from its checkpoint by itself),
// a failed or diverged run does not stop the others, and SIGINT/SIGTERM are forwarded to the children, which
// checkpoint and exit. Deliberately not here: deciding what a run is (SweepSpec) or reading stores (the
// caller passes a status function), so the runner can be tested with stand-in executables.
import Foundation

/// What a run's folder says about it before the sweep starts it.
public enum RunState: String, Sendable, Equatable {
    case missing, running, interrupted, finished, diverged, failed
}

/// The outcome of one run in this invocation.
public enum RunOutcome: Sendable, Equatable {
    case skipped(RunState)          // already finished (or diverged) before this sweep started
    case finished(seconds: Double)
    case failed(exitCode: Int32, seconds: Double)
    case diverged(seconds: Double)
    case interrupted                // stopped by SIGINT/SIGTERM; resumes next time
    case notStarted                 // the sweep was interrupted before this run started
}

/// Summary of a sweep invocation.
public struct SweepSummary: Sendable {
    public var outcomes: [(name: String, outcome: RunOutcome)]
    public var interrupted: Bool
    public var failedCount: Int {
        outcomes.filter {
            switch $0.outcome {
            case .failed, .diverged, .skipped(.diverged), .skipped(.failed): return true
            default: return false
            }
        }.count
    }
}

/// Exit code of `scorescope train` when the loss diverged (NaN/Inf); any other non-zero code is a failure.
public let divergedExitCode: Int32 = 3

/// Runs planned runs locally.
public final class SweepRunner: @unchecked Sendable {
    /// Absolute path of the `scorescope` executable to launch.
    public let executable: String
    /// Arguments that precede the per-run ones (default: `train --preset P [--config F]`).
    public let baseArguments: [String]
    /// Runs at once.
    public let jobs: Int
    /// Threads per run (cores / jobs, at least 1).
    public let threadsPerRun: Int
    /// Reads a run folder's state (the CLI wires this to the run store).
    public let state: @Sendable (String) -> RunState
    /// Where progress lines go (one line per call).
    public let log: @Sendable (String) -> Void

    private let lock = NSLock()
    private var children: [ChildProcess] = []
    private var stopRequested = false
    private var signalSources: [DispatchSourceSignal] = []

    public init(executable: String, baseArguments: [String], jobs: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                state: @escaping @Sendable (String) -> RunState, log: @escaping @Sendable (String) -> Void) {
        self.executable = executable
        self.baseArguments = baseArguments
        self.jobs = max(1, jobs)
        self.threadsPerRun = max(1, cores / max(1, jobs))
        self.state = state
        self.log = log
    }

    /// Asks the runner to stop: children get SIGINT (they checkpoint), no new run starts.
    public func requestStop() {
        lock.lock()
        stopRequested = true
        let running = children
        lock.unlock()
        for p in running { p.signal(SIGINT) }
    }

    /// Forwards SIGINT and SIGTERM of this process to `requestStop()` while `run` is active.
    public func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { [weak self] in
                self?.log("sweep: signal received, stopping runs (they checkpoint and resume next time)")
                self?.requestStop()
            }
            src.resume()
            signalSources.append(src)
        }
    }

    /// Runs every planned run under `outputDirectory/<name>`; returns when all have ended.
    public func run(_ runs: [PlannedRun], outputDirectory: String) -> SweepSummary {
        let fm = FileManager.default
        var outcomes: [String: RunOutcome] = [:]
        var pending: [PlannedRun] = []
        for r in runs {
            let dir = (outputDirectory as NSString).appendingPathComponent(r.name)
            switch state(dir) {
            case .finished: outcomes[r.name] = .skipped(.finished); log("[skip] \(r.name): finished")
            case .diverged: outcomes[r.name] = .skipped(.diverged); log("[skip] \(r.name): diverged earlier (delete the folder to rerun)")
            case .running, .interrupted, .failed:
                pending.append(r); log("[queue] \(r.name): will resume")
            case .missing: pending.append(r)
            }
        }
        let total = runs.count
        var running: [(run: PlannedRun, process: ChildProcess, start: Date)] = []
        var durations: [Double] = []
        let started = Date()
        var lastProgress = Date.distantPast

        func progress(force: Bool = false) {
            let now = Date()
            guard force || now.timeIntervalSince(lastProgress) >= 30 else { return }
            lastProgress = now
            let done = outcomes.count, failed = outcomes.values.filter {
                if case .failed = $0 { return true }; if case .diverged = $0 { return true }; return false
            }.count
            var eta = "unknown"
            if !durations.isEmpty {
                let mean = durations.reduce(0, +) / Double(durations.count)
                let remaining = Double(pending.count) * mean + running.reduce(0.0) { acc, r in
                    acc + max(0, mean - now.timeIntervalSince(r.start))
                }
                eta = Self.format(seconds: remaining / Double(jobs))
            }
            log("progress: \(done)/\(total) done, \(running.count) running, \(failed) failed, elapsed \(Self.format(seconds: now.timeIntervalSince(started))), ETA \(eta)")
        }

        while true {
            lock.lock(); let stopping = stopRequested; lock.unlock()
            while !stopping && running.count < jobs && !pending.isEmpty {
                let r = pending.removeFirst()
                let dir = (outputDirectory as NSString).appendingPathComponent(r.name)
                do {
                    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    let p = try launch(r, directory: dir)
                    running.append((r, p, Date()))
                    log("[start] \(r.name) (\(outcomes.count + running.count)/\(total), \(threadsPerRun) thread\(threadsPerRun == 1 ? "" : "s")) log: \(dir)/train.log")
                } catch {
                    outcomes[r.name] = .failed(exitCode: -1, seconds: 0)
                    log("[fail] \(r.name): could not start: \(error)")
                }
                progress(force: true)
            }
            if running.isEmpty { break }
            Thread.sleep(forTimeInterval: 0.1)
            var i = 0
            while i < running.count {
                let (r, p, start) = running[i]
                if p.isRunning { i += 1; continue }
                let secs = Date().timeIntervalSince(start)
                let code = p.exitCode
                lock.lock(); let stopped = stopRequested; children.removeAll { $0 === p }; lock.unlock()
                let outcome: RunOutcome
                if code == 0 && stopped && state((outputDirectory as NSString).appendingPathComponent(r.name)) != .finished {
                    outcome = .interrupted
                    log("[stopped] \(r.name) after \(Self.format(seconds: secs)): checkpointed, resumes next time")
                } else if code == 0 {
                    outcome = .finished(seconds: secs); durations.append(secs)
                    log("[done] \(r.name) in \(Self.format(seconds: secs))")
                } else if code == divergedExitCode {
                    outcome = .diverged(seconds: secs)
                    log("[diverged] \(r.name) after \(Self.format(seconds: secs)) (see its train.log)")
                } else if stopped && code > 128 {
                    outcome = .interrupted
                    log("[stopped] \(r.name) after \(Self.format(seconds: secs))")
                } else {
                    outcome = .failed(exitCode: code, seconds: secs)
                    log("[fail] \(r.name): exit \(code) after \(Self.format(seconds: secs)) (see its train.log)")
                }
                outcomes[r.name] = outcome
                running.remove(at: i)
                progress(force: true)
            }
            progress()
        }
        lock.lock(); let interrupted = stopRequested; lock.unlock()
        for r in pending where outcomes[r.name] == nil { outcomes[r.name] = .notStarted }
        return SweepSummary(outcomes: runs.map { ($0.name, outcomes[$0.name] ?? .notStarted) }, interrupted: interrupted)
    }

    private func launch(_ r: PlannedRun, directory: String) throws -> ChildProcess {
        let arguments = baseArguments + r.setArguments + ["--out", directory, "--threads", String(threadsPerRun)]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        let logPath = (directory as NSString).appendingPathComponent("train.log")
        let header = "$ scorescope \(arguments.joined(separator: " "))\n"
        if let h = FileHandle(forWritingAtPath: logPath) {
            h.seekToEndOfFile(); h.write(Data(header.utf8)); try? h.close()
        } else if !FileManager.default.createFile(atPath: logPath, contents: Data(header.utf8)) {
            throw SweepError("cannot write \(logPath)")
        }
        lock.lock()
        defer { lock.unlock() }
        if stopRequested { throw SweepError("stopping") }
        let p = try ChildProcess(executable: executable, arguments: arguments, environment: env, logPath: logPath)
        children.append(p)
        return p
    }

    /// "1h02m", "3m05s", "42s".
    public static func format(seconds s: Double) -> String {
        let t = Int(s.rounded())
        if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
        if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
        return "\(t)s"
    }
}
