// Trainer+Benchmark: the cost of one training iteration as the trainer runs it, on random inputs: the MoCo
// learner step, the score summary (pos/neg histograms + statistics, and pos_ft/neg_ft when FT acts) and the
// step's SQLite transaction in a temporary store. For `scorescope bench step`.
// Deliberately not here: data loading (its prefetch overlaps the step) and evaluations (once per epoch).
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NN
import Contrastive
import Recording
import SeededRandom

/// Medians of one training iteration and of its recording parts, in milliseconds.
public struct TrainingStepBenchmark: Sendable {
    /// Learner step + score summary + store transaction (median over the timed iterations).
    public var millisecondsPerIteration: Double
    /// The fastest timed iteration: on a shared host, what the step costs when nothing else competes.
    public var minimumMilliseconds: Double
    /// The learner step alone.
    public var stepMilliseconds: Double
    /// Histogram filling and statistics of every recorded stream.
    public var recordMilliseconds: Double
    /// The store transaction (steps row + histograms).
    public var databaseMilliseconds: Double
    /// CPU time of the whole process per iteration (all threads): robust to other processes sharing the cores;
    /// on an idle machine the wall time is about this divided by the threads.
    public var cpuMillisecondsPerIteration: Double
}

/// CPU time of this process (all threads) in milliseconds.
func processCPUMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

/// Times `repeats` iterations (median) after `warmup` on the default model of architecture.md (convnet-s on
/// 1×28×28, MLP head, B 256, K 4096, split BN with 8 groups; all changeable), with `transform` (default off).
public func benchmarkTrainingStep(transform: FeatureTransformOptions = .off, batch: Int = 256, queueSize: Int = 4096,
                                  encoder: EncoderKind = .convnetS, batchNormGroups: Int = 8, repeats: Int = 20,
                                  warmup: Int = 3, threads: Int = ComputeContext.availableCores) throws -> TrainingStepBenchmark {
    let context = ComputeContext(threads: threads)
    let configuration = MoCoConfiguration(model: ModelSpec(encoder: encoder), queueSize: queueSize,
                                          batchNormGroups: batchNormGroups, transform: transform)
    var generator = SeededGenerator(seed: 11)
    let spec = configuration.model
    let shape = [batch, spec.inputChannels, spec.inputHeight, spec.inputWidth]
    let count = shape.reduce(1, *)
    let views = (0..<2).map { _ in Tensor(shape: shape, storage: (0..<count).map { _ in Float(generator.normal()) }) }
    var learner = MoCoLearner(configuration: configuration, generator: generator.stream(1))

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scorescope-bench-step-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try RunStore(directory: folder)
    defer { try? store.close() }

    var totals: [Double] = [], steps: [Double] = [], records: [Double] = [], databases: [Double] = []
    var cpu: [Double] = []
    for iteration in 0..<(warmup + max(1, repeats)) {
        let c0 = processCPUMilliseconds()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = learner.step(queryImages: views[0], keyImages: views[1], learningRate: 0.01, momentum: 0.99,
                                  epoch: 0, context: context)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let summary = try StepSummary(scores: result.scores, cosineSpec: .cosine, transformedSpec: .transformed,
                                      threads: context.threads)
        let t2 = DispatchTime.now().uptimeNanoseconds
        try store.record(step: StepRecord(step: iteration + 1, epoch: 0, learningRate: 0.01, momentum: 0.99,
                                          loss: result.loss, instanceAccuracy: result.accuracy,
                                          gradientNorm: result.gradientNorm, scores: summary.statistics,
                                          lambdaExtrapolation: summary.lambdaExtrapolation,
                                          lambdaInterpolation: summary.lambdaInterpolation, milliseconds: 0),
                         histograms: summary.histograms)
        let t3 = DispatchTime.now().uptimeNanoseconds
        let c1 = processCPUMilliseconds()
        if !result.loss.isFinite {
            throw TrainerError.dataMismatch("bench step: the loss became \(result.loss) at iteration \(iteration + 1)")
        }
        if iteration < warmup { continue }
        totals.append(Double(t3 - t0) / 1e6)
        steps.append(Double(t1 - t0) / 1e6)
        records.append(Double(t2 - t1) / 1e6)
        databases.append(Double(t3 - t2) / 1e6)
        cpu.append(c1 - c0)
    }
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
    return TrainingStepBenchmark(millisecondsPerIteration: median(totals), minimumMilliseconds: totals.min() ?? .nan,
                                 stepMilliseconds: median(steps),
                                 recordMilliseconds: median(records), databaseMilliseconds: median(databases),
                                 cpuMillisecondsPerIteration: median(cpu))
}
