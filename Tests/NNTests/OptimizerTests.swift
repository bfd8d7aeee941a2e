// SGD arithmetic by hand, gradient norm, and the learning-rate schedules at known points.
import Foundation
import Testing
@testable import NN
import SeededRandom

@Test func sgdFollowsPyTorchMomentumAndWeightDecay() {
    var p = [Tensor(shape: [1], storage: [1])]
    var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
    let g = [Tensor(shape: [1], storage: [0.5])]
    sgd.step(parameters: &p, gradients: g, learningRate: 0.1)
    // d = 0.5 + 0.1·1 = 0.6; v = 0.6; p = 1 − 0.06 = 0.94
    #expect(abs(p[0].storage[0] - 0.94) < 1e-6)
    #expect(abs(sgd.state[0].storage[0] - 0.6) < 1e-6)
    sgd.step(parameters: &p, gradients: g, learningRate: 0.1)
    // d = 0.5 + 0.094 = 0.594; v = 0.54 + 0.594 = 1.134; p = 0.94 − 0.1134 = 0.8266
    #expect(abs(p[0].storage[0] - 0.8266) < 1e-6)
    #expect(abs(sgd.state[0].storage[0] - 1.134) < 1e-6)
}

@Test func globalGradientNormIsTheEuclideanNormOfEverything() {
    let g = [Tensor(shape: [2], storage: [3, 0]), Tensor(shape: [1, 1], storage: [4]), Tensor(shape: [0])]
    #expect(globalGradientNorm(g) == 5)
}

@Test func schedulesGiveKnownValues() {
    func lr(_ s: LRSchedule, _ epoch: Int, _ step: Int = 0) -> Double {
        Double(s.learningRate(base: 0.1, epoch: epoch, stepInEpoch: step, stepsPerEpoch: 10, totalEpochs: 20))
    }
    #expect(lr(.constant, 7, 3) == Double(Float(0.1)))
    let cosine = LRSchedule.cosine(warmupEpochs: 0)
    #expect(abs(lr(cosine, 0) - 0.1) < 1e-7)
    #expect(abs(lr(cosine, 10) - 0.05) < 1e-7)                  // halfway
    #expect(abs(lr(cosine, 5) - 0.1 * 0.5 * (1 + cos(Double.pi / 4))) < 1e-7)
    #expect(lr(cosine, 19, 9) < 0.0001 && lr(cosine, 19, 9) > 0)
    let warm = LRSchedule.cosine(warmupEpochs: 2)
    #expect(abs(lr(warm, 0, 0) - 0.1 / 20) < 1e-7)              // first of 20 warm-up steps
    #expect(abs(lr(warm, 1, 9) - 0.1) < 1e-7)                   // last warm-up step
    #expect(abs(lr(warm, 2, 0) - 0.1) < 1e-7)                   // cosine starts at the base
    #expect(abs(lr(warm, 11, 0) - 0.05) < 1e-7)                 // halfway through epochs 2..<20
    let step = LRSchedule.step(milestones: [5, 15], gamma: 0.1)
    #expect(abs(lr(step, 4, 9) - 0.1) < 1e-8)
    #expect(abs(lr(step, 5) - 0.01) < 1e-8)
    #expect(abs(lr(step, 15) - 0.001) < 1e-9)
}

@Test func schedulesRoundTripThroughJSON() throws {
    for s in [LRSchedule.constant, .cosine(warmupEpochs: 3), .step(milestones: [2, 4], gamma: 0.5)] {
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(LRSchedule.self, from: data) == s)
    }
}

/// Tensors long enough for the chunked, multi-threaded passes (≥ 2 chunks), plus short ones.
private func longTensors(seed: UInt64) -> [Tensor] {
    var g = SeededGenerator(seed: seed)
    return [100_003, 7, 2 * parameterChunkElements].map { n in
        Tensor(shape: [n], storage: (0..<n).map { _ in Float(g.normal()) })
    }
}

@Test func sgdOnLongTensorsIsTheSameWhateverTheThreadCount() {
    let gradients = longTensors(seed: 3)
    var results: [[Tensor]] = []
    for threads in [1, 2, 3] {
        var p = longTensors(seed: 4)
        var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-4)
        sgd.step(parameters: &p, gradients: gradients, learningRate: 0.1, threads: threads)
        sgd.step(parameters: &p, gradients: gradients, learningRate: 0.05, threads: threads)
        results.append(p + sgd.state)
    }
    #expect(results[0] == results[1] && results[0] == results[2])
    // The elementwise rule, checked at elements in the first, a middle and the last chunk.
    let p0 = longTensors(seed: 4)[0].storage, g0 = gradients[0].storage
    for i in [0, 40_000, 100_002] {
        let v1 = g0[i] + 1e-4 * p0[i], p1 = p0[i] - 0.1 * v1
        let v2 = 0.9 * v1 + (g0[i] + 1e-4 * p1), p2 = p1 - 0.05 * v2
        #expect(results[0][0].storage[i] == p2)
    }
}

@Test func gradientNormOfLongTensorsMatchesADoubleSumWhateverTheThreadCount() {
    let g = longTensors(seed: 5)
    var reference = 0.0
    for t in g { for v in t.storage { reference += Double(v) * Double(v) } }
    let norms = [1, 2, 3].map { globalGradientNorm(g, threads: $0) }
    #expect(norms[0] == norms[1] && norms[0] == norms[2])
    #expect(abs(norms[0] - reference.squareRoot()) <= 1e-12 * reference.squareRoot())
}
