// LearnerBenchmark: timings of the InfoNCE + FT block alone and of whole MoCoLearner steps on random inputs,
// for `scorescope bench learner` (and as the base of `bench step`, which adds histogram filling).
// Deliberately not here: printing, statistics beyond the median, data loading.
import Dispatch
import NN
import SeededRandom

/// Median wall time of `body` in milliseconds over `repeats` runs after `warmup` runs.
func medianMilliseconds(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
}

/// Median milliseconds of one InfoNCE forward + backward on random unit vectors (B×D queries and keys, K×D
/// queue), including this step's FT draws (λ, π) when `transform` is enabled.
public func benchmarkInfoNCE(batch: Int, queueSize: Int, dimension: Int, temperature: Float = 0.2,
                             transform: FeatureTransformOptions, repeats: Int = 20, threads: Int = 1,
                             seed: UInt64 = 1) -> Double {
    var g = SeededGenerator(seed: seed)
    func unitRows(_ n: Int) -> Tensor {
        var rows = [Float]()
        rows.reserveCapacity(n * dimension)
        for _ in 0..<n {
            let v = (0..<dimension).map { _ in g.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            rows += v.map { Float($0 / norm) }
        }
        return Tensor(shape: [n, dimension], storage: rows)
    }
    let queries = unitRows(batch), keys = unitRows(batch)
    let queue = KeyQueue(capacity: queueSize, dimension: dimension, generator: &g)
    var block = InfoNCE(temperature: temperature)
    return medianMilliseconds(repeats: repeats, warmup: 2) {
        let draws = transform.draw(batchSize: batch, queueSize: queueSize, dimension: dimension, generator: &g)
        let result = block.lossAndGradient(queries: queries, keys: keys, queue: queue, draws: draws, threads: threads)
        precondition(result.loss.isFinite, "benchmarkInfoNCE: non-finite loss")
    }
}

/// Median milliseconds of one MoCoLearner step (both encoders, InfoNCE + FT, backward, SGD, EMA, enqueue) on
/// random images, after `warmup` steps (the queue and workspaces are warm).
public func benchmarkLearnerStep(configuration: MoCoConfiguration, batch: Int, repeats: Int = 20, warmup: Int = 3,
                                 context: ComputeContext, seed: UInt64 = 1) -> Double {
    var g = SeededGenerator(seed: seed)
    let spec = configuration.model
    let count = batch * spec.inputChannels * spec.inputHeight * spec.inputWidth
    let shape = [batch, spec.inputChannels, spec.inputHeight, spec.inputWidth]
    let views = (0..<2).map { _ in Tensor(shape: shape, storage: (0..<count).map { _ in Float(g.normal()) }) }
    var learner = MoCoLearner(configuration: configuration, generator: g.stream(7))
    return medianMilliseconds(repeats: repeats, warmup: warmup) {
        let result = learner.step(queryImages: views[0], keyImages: views[1], learningRate: 0.01, momentum: 0.99,
                                  epoch: 0, context: context)
        precondition(result.loss.isFinite, "benchmarkLearnerStep: non-finite loss")
    }
}
