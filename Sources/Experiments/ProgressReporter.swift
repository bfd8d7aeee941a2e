// ProgressReporter: turns the trainer's events into what a person reads. On a terminal, one progress line
// redrawn in place (epoch, bar, step, loss, pos/neg means, last kNN top-1, steps/s, ETA) with notes and epoch
// summaries printed above it; otherwise (a pipe, a log file, a Slurm task) one line per epoch and per notable
// event, each written at once (unbuffered), so `tail -f` on a log shows progress as it happens.
// Deliberately not here: training, argument parsing, exit codes (TrainerEntryPoint.swift).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where training output goes: a text sink (callers get whole lines, or on a terminal also carriage-return
/// redraws) and whether it is an interactive terminal.
public struct TrainingConsole: Sendable {
    /// Writes text as is (lines end in "\n"; progress redraws start with "\r").
    public var write: @Sendable (String) -> Void
    /// Writes an error line (without its final newline).
    public var writeError: @Sendable (String) -> Void
    /// Whether to draw a progress bar (true only for an interactive terminal).
    public var isTerminal: Bool

    public init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void,
                writeError: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
        self.writeError = writeError
    }

    /// Standard output (a progress bar when it is a terminal, unbuffered lines otherwise) and standard error.
    public static var standard: TrainingConsole {
        TrainingConsole(isTerminal: isatty(STDOUT_FILENO) == 1,
                        write: { FileHandle.standardOutput.write(Foundation.Data($0.utf8)) },
                        writeError: { FileHandle.standardError.write(Foundation.Data(($0 + "\n").utf8)) })
    }

    /// A console that hands each complete line (without its newline) to `log`, errors included; never a terminal.
    public static func lines(_ log: @escaping @Sendable (String) -> Void) -> TrainingConsole {
        TrainingConsole(isTerminal: false,
                        write: { text in
                            for line in text.split(separator: "\n", omittingEmptySubsequences: true) { log(String(line)) }
                        },
                        writeError: { log($0) })
    }
}

/// Formats `TrainingEvent`s on a `TrainingConsole`. Call `handle` from one thread (the training thread).
public final class ProgressReporter: @unchecked Sendable {
    private let console: TrainingConsole
    private var plan: TrainingPlan?
    private var started = Date()
    private var stepsRun = 0
    private var lastDraw = Date.distantPast
    private var barVisible = false
    private var latestKNN: Double?
    private var epochLoss = 0.0, epochPositive = 0.0, epochNegative = 0.0, epochAccuracy = 0.0, epochSteps = 0
    private var pendingEpoch: (step: Int, epoch: Int)?
    private var last: StepProgress?

    /// Seconds between redraws of the terminal bar.
    static let redrawInterval = 0.25

    public init(console: TrainingConsole) {
        self.console = console
    }

    /// Steps per second over this invocation (nil before the first step).
    public var stepsPerSecond: Double? {
        let elapsed = Date().timeIntervalSince(started)
        return stepsRun > 0 && elapsed > 0 ? Double(stepsRun) / elapsed : nil
    }

    /// Handles one event.
    public func handle(_ event: TrainingEvent) {
        switch event {
        case .started(let plan):
            self.plan = plan
            started = Date()
            let what = plan.resumed ? "resuming at step \(plan.firstStep) of" : "starting"
            line("\(plan.directory): \(what) \(plan.totalSteps) steps (\(plan.epochs) epochs × \(plan.stepsPerEpoch)); "
                + "\(plan.trainImages) train / \(plan.testImages) test images of \(plan.imageShape); "
                + "\(plan.threads) thread\(plan.threads == 1 ? "" : "s"), OpenBLAS core \(plan.blasCore)")
        case .step(let progress):
            stepsRun += 1
            last = progress
            epochLoss += progress.loss
            epochPositive += progress.positiveMean
            epochNegative += progress.negativeMean
            epochAccuracy += progress.instanceAccuracy
            epochSteps += 1
            if progress.indexInEpoch + 1 == progress.stepsPerEpoch { pendingEpoch = (progress.step, progress.epoch) }
            if console.isTerminal {
                let now = Date()
                if now.timeIntervalSince(lastDraw) >= Self.redrawInterval || progress.step == progress.totalSteps {
                    lastDraw = now
                    drawBar(progress)
                }
            }
        case let .evaluation(kind, step, epoch, top1, top5):
            if kind == .knn { latestKNN = top1 }
            let accuracy = String(format: "top-1 %.2f %%", top1) + (top5.map { String(format: ", top-5 %.2f %%", $0) } ?? "")
            if step == 0 {
                line("\(kind) of the untrained encoder (step 0): \(accuracy)")
            } else if kind != .knn || pendingEpoch?.step != step {
                line("\(kind) at step \(step) (epoch \(epoch + 1)): \(accuracy)")
            }
        case .checkpoint(let step):
            if let pending = pendingEpoch, pending.step == step { epochLine(pending) }
        case .note(let text):
            line(text)
        }
    }

    /// Prints a line (above the bar on a terminal).
    public func line(_ text: String) {
        if console.isTerminal && barVisible {
            console.write("\r\u{1B}[K")
            barVisible = false
        }
        console.write(text + "\n")
        if console.isTerminal, let last { drawBar(last) }
    }

    /// Removes the bar (before a final message).
    public func finish() {
        if console.isTerminal && barVisible {
            console.write("\r\u{1B}[K")
            barVisible = false
        }
    }

    private func epochLine(_ pending: (step: Int, epoch: Int)) {
        pendingEpoch = nil
        guard let plan, epochSteps > 0 else { return }
        let n = Double(epochSteps)
        var text = "epoch \(pending.epoch + 1)/\(plan.epochs) step \(pending.step)/\(plan.totalSteps)"
            + String(format: " loss %.4f inst-acc %.3f pos %.4f neg %.4f", epochLoss / n, epochAccuracy / n,
                     epochPositive / n, epochNegative / n)
        if let knn = latestKNN { text += String(format: " knn %.2f %%", knn) }
        text += timing(step: pending.step, total: plan.totalSteps)
        epochLoss = 0; epochPositive = 0; epochNegative = 0; epochAccuracy = 0; epochSteps = 0
        line(text)
    }

    private func timing(step: Int, total: Int) -> String {
        let elapsed = Date().timeIntervalSince(started)
        guard let rate = stepsPerSecond else { return "" }
        let remaining = Double(total - step) / rate
        return String(format: " %.2f steps/s", rate) + " elapsed \(SweepRunner.format(seconds: elapsed))"
            + " ETA \(SweepRunner.format(seconds: remaining))"
    }

    private func drawBar(_ progress: StepProgress) {
        guard let plan else { return }
        let width = 20
        let filled = min(width, Int(Double(width) * Double(progress.indexInEpoch + 1) / Double(progress.stepsPerEpoch)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = "epoch \(progress.epoch + 1)/\(plan.epochs) [\(bar)] step \(progress.step)/\(progress.totalSteps)"
            + String(format: " loss %.4f pos %.3f neg %.3f", progress.loss, progress.positiveMean, progress.negativeMean)
        if let knn = latestKNN { text += String(format: " knn %.1f%%", knn) }
        text += timing(step: progress.step, total: progress.totalSteps)
        console.write("\r\u{1B}[K" + text)
        barVisible = true
    }
}
