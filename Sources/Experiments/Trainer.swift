// Trainer: the training loop of one run: data -> MoCo learner -> run store. Per step it takes the LR and key
// momentum from their schedules, runs one learner step, summarises the scores (pos/neg histograms and statistics,
// plus pos_ft/neg_ft while FT acts) and records them in one store transaction, with the events of the step
// (queue_filled, ft_started, lr_drop); per epoch it runs the kNN monitor and writes a checkpoint; at the end it
// runs the linear probe. It resumes from `checkpoint.bin` bit-identically, stops cleanly on request (signals), and
// marks a run whose loss is not finite as diverged.
//
// Determinism: the data (synthetic images, `?limit=` subsets, folder splits) comes from `dataSeed`; everything of
// the training (initialisation, epoch order, augmentation, FT draws, key shuffles) from `seed`. Nothing depends on
// the thread count. A resumed run deletes the steps recorded after its checkpoint and recomputes them, so the
// finished store holds the same rows as an uninterrupted run, except the wall-clock parts: the `ms` column, the
// `created`/`threads`/`blas_core` meta values, and the events that exist only because of the interruption
// (`resumed`, `interrupted`).
// Ordering (crash safety): a step's row, then its events, then its evaluations, then a checkpoint; so a checkpoint
// never runs ahead of the store, and a SIGKILL at any moment leaves at worst steps after the checkpoint, which the
// next run deletes.
// Deliberately not here: argument parsing and printing (TrainingProgress.swift formats the events this file
// emits), the learner's maths (Contrastive), the store's SQL (Recording), checkpoint bytes (TrainerCheckpoint.swift).
import Foundation
import Data
import NN
import Contrastive
import Recording
import SeededRandom

/// How a `Trainer.run()` ended (errors are thrown instead).
public enum TrainingOutcome: Sendable, Equatable {
    /// Every step ran and the final evaluations are recorded; `steps` is the total number of steps.
    case finished(steps: Int)
    /// The folder already held a finished run with this configuration; nothing was changed.
    case alreadyFinished(steps: Int)
    /// A stop was requested (SIGINT/SIGTERM); a checkpoint at `step` was written and the status is `interrupted`.
    case interrupted(step: Int)
    /// The loss at `step` was not finite; the status is `diverged` (now, or already before this invocation).
    case diverged(step: Int, loss: Double)
}

/// Errors of a training run, each a complete sentence naming the folder, file or config key.
public enum TrainerError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The folder holds a run with another configuration.
    case configurationMismatch(directory: String, differences: [String])
    /// The data does not fit the configuration (batch larger than the dataset, too few classes, ...).
    case dataMismatch(String)
    /// The checkpoint cannot be used.
    case checkpoint(path: String, problem: String)
    /// Simulated crash (test seam: `Trainer.abandonAfterStep`).
    case abandoned(step: Int)

    public var description: String {
        switch self {
        case let .configurationMismatch(directory, differences):
            return "\(directory) holds a run with another configuration; resume it with the same presets and "
                + "--set values (or with none: then the stored config is used), or choose another --out folder. "
                + "Differences (stored → requested): " + differences.joined(separator: "; ")
        case let .dataMismatch(problem):
            return problem
        case let .checkpoint(path, problem):
            return "checkpoint \(path): \(problem)"
        case let .abandoned(step):
            return "training abandoned after step \(step) without a checkpoint (test seam)"
        }
    }

    public var errorDescription: String? { description }
}

/// Something the trainer reports while it runs (for progress bars and logs). Accuracies are in percent.
public enum TrainingEvent: Sendable {
    /// Training is about to start (or resume) at `plan.firstStep`.
    case started(TrainingPlan)
    /// A step was recorded.
    case step(StepProgress)
    /// An evaluation was recorded (top-1/top-5 in percent).
    case evaluation(kind: EvalKind, step: Int, epoch: Int, top1: Double, top5: Double?)
    /// A checkpoint was written after `step`.
    case checkpoint(step: Int)
    /// A line worth telling the user (resume, FT start, LR drop, queue filled, ...).
    case note(String)
}

/// The shape of a run, as known when it starts.
public struct TrainingPlan: Sendable {
    /// The run folder.
    public var directory: String
    /// Epochs of the whole run.
    public var epochs: Int
    /// Full batches per epoch (the last incomplete batch is dropped).
    public var stepsPerEpoch: Int
    /// epochs × stepsPerEpoch.
    public var totalSteps: Int
    /// The first step this invocation will run (1 for a fresh run).
    public var firstStep: Int
    /// Whether a checkpoint (or a started store) was resumed.
    public var resumed: Bool
    /// Images of the train and test splits.
    public var trainImages: Int, testImages: Int
    /// "C×H×W".
    public var imageShape: String
    /// Worker threads of this invocation.
    public var threads: Int
    /// OpenBLAS kernel family in use.
    public var blasCore: String
}

/// One recorded step, for progress displays.
public struct StepProgress: Sendable {
    /// Global step (1-based), its epoch (0-based) and its batch index in the epoch (0-based).
    public var step: Int, epoch: Int, indexInEpoch: Int
    /// Steps per epoch and in the whole run.
    public var stepsPerEpoch: Int, totalSteps: Int
    /// InfoNCE loss and instance accuracy (fraction) of the step.
    public var loss: Double, instanceAccuracy: Double
    /// Mean raw cosine scores of the positives and of the negatives.
    public var positiveMean: Double, negativeMean: Double
    /// Learning rate and key momentum used.
    public var learningRate: Double, momentum: Double
    /// Wall time of the learner step and score summary.
    public var milliseconds: Double
}

/// A thread-safe stop flag, set by signal handlers (`installSignalHandlers()`) or directly (`request(_:)`).
/// The trainer checks it between steps; a second signal exits the process at once (no checkpoint: the next run
/// resumes from the last one, as after a crash).
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var reasonText: String?
    private var sources: [DispatchSourceSignal] = []

    /// A flag that is not set.
    public init() {}

    /// Asks the trainer to stop after the current step (the first reason is kept).
    public func request(_ reason: String) {
        lock.lock()
        if reasonText == nil { reasonText = reason }
        lock.unlock()
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { reason != nil }

    /// Why the stop was requested, or nil.
    public var reason: String? {
        lock.lock()
        defer { lock.unlock() }
        return reasonText
    }

    /// Routes SIGINT and SIGTERM of this process to `request(_:)` (the default actions are replaced by SIG_IGN,
    /// so the process is not killed). A second signal writes `message` to standard error and exits with 128 + signal.
    public func installSignalHandlers() {
        for (signalNumber, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.isRequested {
                    FileHandle.standardError.write(Foundation.Data(
                        "\n\(name) again: exiting now without a checkpoint (the next run resumes from the last one)\n".utf8))
                    _exit(128 + signalNumber)  // no atexit handlers racing the training thread: like a crash
                }
                self.request("\(name) received")
            }
            source.resume()
            lock.lock()
            sources.append(source)
            lock.unlock()
        }
    }
}

/// The training loop of one run folder (see the file header).
public struct Trainer: Sendable {
    /// The run's configuration (validated again by `run()`).
    public let config: TrainConfig
    /// The run folder: `run.sqlite`, `run.lock` and `checkpoint.bin` live here.
    public let directory: String
    /// Worker threads (never changes a result).
    public let threads: Int
    /// Recorded in the store when it is created.
    public let scorescopeVersion: String
    /// Checked between steps.
    public let stop: StopRequest
    /// Receives progress (called on the training thread).
    public let observer: @Sendable (TrainingEvent) -> Void

    /// Test seam: after this step, throw `TrainerError.abandoned` without a checkpoint or status change, as a
    /// crash would leave the folder. Nil (default) in real runs.
    var abandonAfterStep: Int?

    /// File name of the checkpoint inside the run folder.
    public static let checkpointFileName = "checkpoint.bin"

    /// A trainer for `directory`. `threads` nil (default) = `config.effectiveThreads`.
    public init(config: TrainConfig, directory: String, threads: Int? = nil, scorescopeVersion: String,
                stop: StopRequest = StopRequest(), observer: @escaping @Sendable (TrainingEvent) -> Void = { _ in }) {
        self.config = config
        self.directory = directory
        self.threads = max(1, threads ?? config.effectiveThreads)
        self.scorescopeVersion = scorescopeVersion
        self.stop = stop
        self.observer = observer
    }

    /// Path of the checkpoint file.
    public var checkpointPath: String { (directory as NSString).appendingPathComponent(Self.checkpointFileName) }

    /// Trains (or resumes, or reports an already finished or diverged run). Throws `TrainConfigError`,
    /// `TrainerError`, `RecordingError` (e.g. `storeLocked` when another writer holds the folder) or `DataError`.
    public func run() throws -> TrainingOutcome {
        try config.validate()
        let normalized = config.normalizedForStorage
        let context = ComputeContext(threads: threads)  // also sets OpenBLAS to one thread
        let store = try RunStore(directory: directory, scorescopeVersion: scorescopeVersion)
        defer { try? store.close() }

        // An existing run: same configuration? already over?
        let storedJSON = try store.meta(MetaKey.config)
        if let storedJSON {
            let differences = try normalized.differences(fromStoredJSON: storedJSON)
            if !differences.isEmpty {
                throw TrainerError.configurationMismatch(directory: directory, differences: differences)
            }
            switch try store.meta(MetaKey.status).flatMap(RunStatus.init(rawValue:)) {
            case .finished?:
                return .alreadyFinished(steps: try store.lastRecordedStep() ?? 0)
            case .diverged?:
                let reader = try RunReader(directory: directory)
                let step = try reader.events(kind: .diverged).last?.step ?? store.lastRecordedStep() ?? 0
                let loss = try reader.steps(in: step...step).first?.loss ?? .nan
                return .diverged(step: step, loss: loss)
            default:
                break
            }
        }

        let data = try TrainingData(config: config)
        let moco = config.mocoConfiguration(inputChannels: data.train.channels, inputHeight: data.train.height,
                                            inputWidth: data.train.width)
        do { try moco.model.validate() } catch {
            throw TrainerError.dataMismatch("the model does not fit the images of \(config.dataset): \(error)")
        }
        let stepsPerEpoch = data.loader.batchesPerEpoch
        let totalSteps = stepsPerEpoch * config.epochs

        // Where to start: a checkpoint, or the beginning.
        var learner: MoCoLearner
        var position = TrainingPosition(step: 0, epoch: 0, index: 0)
        var resumed = false
        let fileManager = FileManager.default
        if storedJSON != nil, fileManager.fileExists(atPath: checkpointPath) {
            let checkpoint = try TrainingCheckpoint.read(path: checkpointPath, config: normalized, learner: moco,
                                                         stepsPerEpoch: stepsPerEpoch, epochs: config.epochs)
            learner = checkpoint.learner
            position = checkpoint.position
            let recorded = try store.lastRecordedStep() ?? 0
            if recorded < position.step {
                throw TrainerError.checkpoint(path: checkpointPath, problem:
                    "it is at step \(position.step) but the store holds steps only up to \(recorded); the store was "
                    + "replaced or damaged. Delete \(Self.checkpointFileName) to restart the run from the beginning")
            }
            let removed = try store.deleteSteps(after: position.step)
            // A different OpenBLAS kernel family (a requeued Slurm task on another kind of node) sums in another
            // order: the rest of the run then differs in the last bits from an uninterrupted one. Say so.
            var kernelNote = ""
            if let before = try store.meta(TrainerMetaKey.blasCore), before != blasCoreName() {
                kernelNote = "; OpenBLAS kernels changed from \(before) to \(blasCoreName()), so later steps may differ "
                    + "in the last bits from an uninterrupted run"
            }
            try store.addEvent(step: position.step, kind: .resumed, detail:
                "resumed from the checkpoint at step \(position.step) (epoch \(position.epoch), batch \(position.index)); "
                + "\(removed) later step\(removed == 1 ? "" : "s") deleted and recomputed" + kernelNote)
            resumed = true
        } else {
            learner = MoCoLearner(configuration: moco, generator: SeededGenerator(seed: config.seed))
            if storedJSON != nil {
                // Started before but never checkpointed: start again from nothing.
                try store.deleteSteps(after: -1)
                try store.addEvent(step: 0, kind: .resumed, detail: "no checkpoint yet: restarted from the beginning")
                resumed = true
            } else {
                try store.setConfig(json: normalized.jsonString())
                try store.setHistogramSpecs(data.histogramSpecs)
                try store.setMeta(TrainerMetaKey.data, data.descriptionJSON)
            }
        }
        try store.setMeta(TrainerMetaKey.threads, String(threads))
        try store.setMeta(TrainerMetaKey.blasCore, blasCoreName())
        try store.setStatus(.running)

        observer(.started(TrainingPlan(
            directory: directory, epochs: config.epochs, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps,
            firstStep: position.step + 1, resumed: resumed, trainImages: data.train.count, testImages: data.test.count,
            imageShape: "\(data.train.channels)×\(data.train.height)×\(data.train.width)", threads: threads,
            blasCore: blasCoreName())))

        var loop = TrainingLoop(trainer: self, store: store, data: data, context: context, learner: learner,
                                stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps)
        do {
            return try loop.run(from: position)
        } catch let error as TrainerError {
            if case .abandoned = error { throw error }
            try? store.setStatus(.failed)
            throw error
        } catch {
            try? store.setStatus(.failed)
            throw error
        }
    }
}

/// Meta keys the trainer adds beside Recording's well-known ones.
public enum TrainerMetaKey {
    /// Threads of the latest invocation (a wall-clock detail: results do not depend on it).
    public static let threads = "threads"
    /// OpenBLAS kernel family of the latest invocation.
    public static let blasCore = "blas_core"
    /// JSON: {"train": N, "test": M, "classes": C, "shape": [C, H, W], "dataset": spec}.
    public static let data = "data"
}

/// Where training stands: `step` steps done; the next batch is `index` of `epoch` (index 0 of epoch `epochs`
/// once every step is done).
struct TrainingPosition: Equatable, Sendable {
    var step: Int, epoch: Int, index: Int
}

/// The splits, loaders and histogram specs of a run.
struct TrainingData: Sendable {
    let train: Dataset
    let test: Dataset
    let loader: TwoViewLoader
    let cosineSpec: HistogramSpec
    let transformedSpec: HistogramSpec

    init(config: TrainConfig) throws {
        let spec = try config.datasetSpec()
        train = try spec.load(split: .train, seed: config.dataSeed)
        test = try spec.load(split: .test, seed: config.dataSeed)
        if config.batchSize > train.count {
            throw TrainerError.dataMismatch("config key 'batchSize': \(config.batchSize) is larger than the "
                + "\(train.count) training images of '\(config.dataset)'; lower batchSize or use more images")
        }
        if train.classCount < 2 && (config.knn.every > 0 || config.knn.atStart || config.linearProbe.enabled) {
            throw TrainerError.dataMismatch("'\(config.dataset)' has \(train.classCount) class; the kNN monitor and "
                + "the linear probe need at least 2 (set knn.every=0, knn.atStart=false and linearProbe.enabled=false)")
        }
        loader = try TwoViewLoader(dataset: train, batchSize: config.batchSize, augmentation: config.augmentation,
                                   seed: config.seed, threads: 1)
        cosineSpec = try HistogramSpec(lower: config.histogram.lower, upper: config.histogram.upper,
                                       bins: config.histogram.bins)
        transformedSpec = try HistogramSpec(lower: config.histogram.transformedLower,
                                            upper: config.histogram.transformedUpper,
                                            bins: config.histogram.transformedBins)
    }

    var histogramSpecs: [ScoreStream: HistogramSpec] {
        [.positive: cosineSpec, .negative: cosineSpec,
         .positiveTransformed: transformedSpec, .negativeTransformed: transformedSpec]
    }

    var descriptionJSON: String {
        "{\"classes\":\(train.classCount),\"shape\":[\(train.channels),\(train.height),\(train.width)],"
            + "\"test\":\(test.count),\"train\":\(train.count)}"
    }
}

/// The mutable state of one invocation's loop.
struct TrainingLoop {
    let trainer: Trainer
    let store: RunStore
    let data: TrainingData
    let context: ComputeContext
    var learner: MoCoLearner
    let stepsPerEpoch: Int
    let totalSteps: Int
    /// Eval features of the latest evaluation (reused by the probe when it runs at the same step).
    var cachedFeatures: (step: Int, features: EvaluationFeatures)?

    init(trainer: Trainer, store: RunStore, data: TrainingData, context: ComputeContext, learner: MoCoLearner,
         stepsPerEpoch: Int, totalSteps: Int) {
        self.trainer = trainer
        self.store = store
        self.data = data
        self.context = context
        self.learner = learner
        self.stepsPerEpoch = stepsPerEpoch
        self.totalSteps = totalSteps
    }

    var config: TrainConfig { trainer.config }

    mutating func run(from start: TrainingPosition) throws -> TrainingOutcome {
        if start.step == 0 && config.knn.atStart {
            try evaluateKNN(step: 0, epoch: 0)
        }
        let B = config.batchSize
        for epoch in start.epoch..<max(start.epoch, config.epochs) {
            let first = epoch == start.epoch ? start.index : 0
            var index = first
            for batch in data.loader.prefetching(epoch: epoch, from: first) {
                let step = epoch * stepsPerEpoch + index + 1
                let learningRate = rate(epoch: epoch, index: index)
                let momentum = config.momentumSchedule.momentum(base: config.momentum, step: step - 1,
                                                                totalSteps: totalSteps)
                let events = eventsBefore(step: step, epoch: epoch, index: index, batchSize: B)

                let shape = [batch.batchSize, batch.channels, batch.height, batch.width]
                let capture = config.sampleEvery > 0 && step % config.sampleEvery == 0
                let started = DispatchTime.now().uptimeNanoseconds
                let result = learner.step(queryImages: Tensor(shape: shape, storage: batch.view1),
                                          keyImages: Tensor(shape: shape, storage: batch.view2),
                                          learningRate: learningRate, momentum: momentum, epoch: epoch,
                                          captureSample: capture, context: context)
                let summary = try StepSummary(scores: result.scores, cosineSpec: data.cosineSpec,
                                              transformedSpec: data.transformedSpec, threads: context.threads)
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6

                let record = StepRecord(step: step, epoch: epoch, learningRate: Double(learningRate), momentum: momentum,
                                        loss: result.loss, instanceAccuracy: result.accuracy,
                                        gradientNorm: result.gradientNorm, scores: summary.statistics,
                                        lambdaExtrapolation: summary.lambdaExtrapolation,
                                        lambdaInterpolation: summary.lambdaInterpolation, milliseconds: milliseconds)
                try store.record(step: record, histograms: summary.histograms,
                                 samples: result.sample.map(Self.storedSamples) ?? [])
                if !result.loss.isFinite {
                    let detail = "loss \(result.loss) at step \(step) (epoch \(epoch), lr \(learningRate)); "
                        + "the learner kept its state from step \(step - 1)"
                    try store.setStatus(.diverged, event: RunEvent(step: step, kind: .diverged, detail: detail))
                    return .diverged(step: step, loss: result.loss)
                }
                for event in events {
                    try store.addEvent(event)
                    trainer.observer(.note("step \(step): \(event.kind) — \(event.detail)"))
                }
                trainer.observer(.step(StepProgress(
                    step: step, epoch: epoch, indexInEpoch: index, stepsPerEpoch: stepsPerEpoch, totalSteps: totalSteps,
                    loss: result.loss, instanceAccuracy: result.accuracy,
                    positiveMean: summary.statistics.positiveMean, negativeMean: summary.statistics.negativeMean,
                    learningRate: Double(learningRate), momentum: momentum, milliseconds: milliseconds)))

                index += 1
                let next = index == stepsPerEpoch ? TrainingPosition(step: step, epoch: epoch + 1, index: 0)
                                                  : TrainingPosition(step: step, epoch: epoch, index: index)
                var checkpointed = false
                if index == stepsPerEpoch {
                    if config.knn.every > 0 && ((epoch + 1) % config.knn.every == 0 || epoch == config.epochs - 1) {
                        try evaluateKNN(step: step, epoch: epoch)
                    }
                    try writeCheckpoint(next)
                    checkpointed = true
                } else if config.checkpointEvery > 0 && step % config.checkpointEvery == 0 {
                    try writeCheckpoint(next)
                    checkpointed = true
                }
                if let reason = trainer.stop.reason {
                    if !checkpointed { try writeCheckpoint(next) }
                    try store.setStatus(.interrupted, event: RunEvent(step: step, kind: .interrupted,
                        detail: "\(reason): checkpoint written after step \(step); run train again to resume"))
                    return .interrupted(step: step)
                }
                if trainer.abandonAfterStep == step { throw TrainerError.abandoned(step: step) }
            }
        }

        // Every step is done: the final evaluation.
        if config.linearProbe.enabled {
            let features = try evaluationFeatures(step: totalSteps)
            let result = config.probe.evaluate(trainFeatures: features.train, trainLabels: features.trainLabels,
                                               testFeatures: features.test, testLabels: features.testLabels,
                                               dimension: features.dimension, classCount: features.classCount,
                                               threads: context.threads)
            try record(kind: .linear, step: totalSteps, epoch: config.epochs - 1, accuracy: result.test)
        }
        let evals = try RunReader(directory: trainer.directory).evals()
        let summary = [EvalKind.knn, .linear].compactMap { kind in
            evals.last { $0.kind == kind }.map { "\(kind) top-1 \(String(format: "%.2f", $0.top1)) %" }
        }
        try store.setStatus(.finished, event: RunEvent(step: totalSteps, kind: .finished,
            detail: (["\(totalSteps) steps"] + summary).joined(separator: ", ")))
        return .finished(steps: totalSteps)
    }

    /// The learning rate of batch `index` of `epoch`.
    func rate(epoch: Int, index: Int) -> Float {
        config.learningRateSchedule.learningRate(base: Float(config.lr), epoch: epoch, stepInEpoch: index,
                                                 stepsPerEpoch: stepsPerEpoch, totalEpochs: config.epochs)
    }

    /// The events that belong to `step` and are known before it runs (all derived from the state, so a resumed
    /// run records the same ones).
    func eventsBefore(step: Int, epoch: Int, index: Int, batchSize: Int) -> [RunEvent] {
        var events: [RunEvent] = []
        let queue = learner.queue
        if queue.isFull && queue.enqueuedCount - batchSize < queue.capacity {
            events.append(RunEvent(step: step, kind: .queueFilled, detail:
                "the queue holds \(queue.capacity) real keys from this step on (filled by step \(step - 1)'s enqueue)"))
        }
        let ft = config.ft
        if ft.isEnabled && index == 0 && epoch == ft.startEpoch {
            var parts: [String] = []
            if ft.positive != .none { parts.append("positive \(ft.positive.rawValue) α \(ft.alphaPositive)") }
            if ft.negative != .none { parts.append("negative \(ft.negative.rawValue) α \(ft.alphaNegative), queue \(ft.queueMode.rawValue)") }
            parts.append("\(ft.distribution.rawValue) λ per \(ft.granularity.rawValue), renormalize \(ft.renormalize.rawValue)")
            events.append(RunEvent(step: step, kind: .featureTransformStarted,
                                   detail: "epoch \(epoch): " + parts.joined(separator: "; ")))
        }
        if config.lrSchedule == .step && index == 0 && epoch > 0 && config.effectiveMilestones.contains(epoch) {
            let before = rate(epoch: epoch - 1, index: stepsPerEpoch - 1), after = rate(epoch: epoch, index: 0)
            events.append(RunEvent(step: step, kind: .learningRateDrop,
                                   detail: "lr \(before) → \(after) at epoch \(epoch)"))
        }
        return events
    }

    mutating func evaluateKNN(step: Int, epoch: Int) throws {
        let features = try evaluationFeatures(step: step)
        let accuracy = config.knnMonitor.evaluate(trainFeatures: features.train, trainLabels: features.trainLabels,
                                                  testFeatures: features.test, testLabels: features.testLabels,
                                                  dimension: features.dimension, classCount: features.classCount,
                                                  threads: context.threads)
        try record(kind: .knn, step: step, epoch: epoch, accuracy: accuracy)
    }

    func record(kind: EvalKind, step: Int, epoch: Int, accuracy: ClassifierAccuracy) throws {
        let top1 = accuracy.top1 * 100, top5 = accuracy.top5 * 100
        try store.addEval(EvalRecord(step: step, epoch: epoch, kind: kind, top1: top1, top5: top5))
        trainer.observer(.evaluation(kind: kind, step: step, epoch: epoch, top1: top1, top5: top5))
    }

    /// Eval-mode features h of both splits for the learner as it is after `step`.
    mutating func evaluationFeatures(step: Int) throws -> EvaluationFeatures {
        if let cached = cachedFeatures, cached.step == step { return cached.features }
        let features = try EvaluationFeatures(learner: learner, train: data.train, test: data.test, context: context)
        cachedFeatures = (step, features)
        return features
    }

    func writeCheckpoint(_ position: TrainingPosition) throws {
        try TrainingCheckpoint(config: trainer.config.normalizedForStorage, position: position, learner: learner)
            .write(to: trainer.checkpointPath)
        trainer.observer(.checkpoint(step: position.step))
    }

    /// The learner's geometry sample as `samples` rows: z_q, z_k and the queue rows always; ẑ_q, ẑ_k only when
    /// the positives were transformed, n̂ only when the negatives were (what the sphere figure expects).
    static func storedSamples(_ sample: Contrastive.GeometrySample) -> [Recording.GeometrySample] {
        let D = sample.dimension
        func rows(_ values: [Float], _ kind: SampleKind) -> [Recording.GeometrySample] {
            (0..<(values.count / D)).map {
                Recording.GeometrySample(kind: kind, index: $0, vector: Array(values[($0 * D)..<($0 * D + D)]))
            }
        }
        var out = rows(sample.queries, .query) + rows(sample.keys, .key) + rows(sample.queueRows, .negative)
        if sample.transformedQueries != sample.queries || sample.transformedKeys != sample.keys {
            out += rows(sample.transformedQueries, .transformedQuery) + rows(sample.transformedKeys, .transformedKey)
        }
        if !sample.partners.isEmpty {
            out += rows(sample.mixedQueueRows, .mixedNegative)
        }
        return out
    }
}

/// One step's score summary as recorded: statistics and histograms of the raw cosine scores, histograms of the
/// scores in the logits while FT acts, and the step's λ (their means for per-sample or per-element λ).
struct StepSummary {
    var statistics: ScoreStatistics
    var histograms: [(stream: ScoreStream, histogram: ScoreHistogram)]
    var lambdaExtrapolation: Double?
    var lambdaInterpolation: Double?

    init(scores: StepScores, cosineSpec: HistogramSpec, transformedSpec: HistogramSpec, threads: Int) throws {
        let raw = try ScoreSummary(positive: scores.positive, negative: scores.negative, positiveSpec: cosineSpec,
                                   negativeSpec: cosineSpec, threads: threads)
        statistics = raw.statistics
        histograms = [(.positive, raw.positive), (.negative, raw.negative)]
        if scores.isTransformed {
            var positive = ScoreHistogram(spec: transformedSpec), negative = ScoreHistogram(spec: transformedSpec)
            positive.fill(scores.transformedPositive, threads: 1)
            negative.fill(scores.transformedNegative, threads: threads)
            histograms += [(.positiveTransformed, positive), (.negativeTransformed, negative)]
        }
        lambdaExtrapolation = scores.draws.positiveLambdaMean
        lambdaInterpolation = scores.draws.negativeLambdaMean
    }
}

/// Eval-mode features h of the train and test splits (the kNN monitor's and the linear probe's input).
struct EvaluationFeatures: Sendable {
    let train: [Float], test: [Float]
    let trainLabels: [Int], testLabels: [Int]
    let dimension: Int, classCount: Int

    /// Images per forward call (memory bound only; eval-mode BN makes the result independent of it).
    static let batchSize = 1024

    init(learner: MoCoLearner, train: Dataset, test: Dataset, context: ComputeContext) throws {
        func embed(_ dataset: Dataset) throws -> [Float] {
            let loader = try EvaluationLoader(dataset: dataset, batchSize: Self.batchSize, mean: train.mean, std: train.std)
            var out: [Float] = []
            out.reserveCapacity(dataset.count * learner.configuration.model.featureDim)
            for i in 0..<loader.batchCount {
                let batch = loader.batch(i)
                let images = Tensor(shape: [batch.count, batch.channels, batch.height, batch.width], storage: batch.images)
                out += learner.features(images: images, context: context).storage
            }
            return out
        }
        self.train = try embed(train)
        self.test = try embed(test)
        trainLabels = train.labels.map(Int.init)
        testLabels = test.labels.map(Int.init)
        dimension = learner.configuration.model.featureDim
        classCount = max(train.classCount, test.classCount)
    }
}

extension TrainConfig {
    /// The config as stored and compared: `threads` (an execution detail that never changes a result) set to 0.
    public var normalizedForStorage: TrainConfig {
        var config = self
        config.threads = 0
        return config
    }

    /// The keys in which `self` differs from a stored config JSON, as "key: stored → requested" (empty when equal).
    func differences(fromStoredJSON json: String) throws -> [String] {
        // Keys missing from an older stored config take their defaults, like decoding does.
        if let decoded = try? TrainConfig.decode(json: json), decoded.normalizedForStorage == self { return [] }
        guard let stored = try? ConfigValue.parse(json) else { return ["the stored config (meta.config) is not valid JSON"] }
        let requested = try ConfigValue.encoding(self)
        var storedLeaves: [String: ConfigValue] = [:], requestedLeaves: [String: ConfigValue] = [:]
        func flatten(_ value: ConfigValue, _ prefix: String, into leaves: inout [String: ConfigValue]) {
            if case .object(let members) = value {
                for (key, child) in members { flatten(child, prefix.isEmpty ? key : "\(prefix).\(key)", into: &leaves) }
            } else {
                leaves[prefix] = value
            }
        }
        flatten(stored, "", into: &storedLeaves)
        flatten(requested, "", into: &requestedLeaves)
        func text(_ value: ConfigValue?) -> String {
            guard let value else { return "(absent)" }
            if case .string(let s) = value { return s }
            return (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "?"
        }
        let differences: [String] = Set(storedLeaves.keys).union(requestedLeaves.keys).sorted().compactMap { key in
            let a = storedLeaves[key], b = requestedLeaves[key]
            if let a, let b, a == b { return nil }
            if case .double(let x)? = a, case .int(let y)? = b, x == Double(y) { return nil }
            if case .int(let x)? = a, case .double(let y)? = b, Double(x) == y { return nil }
            return "\(key): \(text(a)) → \(text(b))"
        }
        return differences.isEmpty ? ["the stored config (meta.config) does not decode to a valid config"] : differences
    }
}
