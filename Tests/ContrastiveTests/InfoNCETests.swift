import Testing
import Foundation
import NN
import SeededRandom
@testable import Contrastive

/// One configuration of the block: modes, granularity, renormalisation.
struct BlockCase: CustomStringConvertible, Sendable {
    var positive: FeatureTransformOptions.PositiveMode
    var negative: FeatureTransformOptions.NegativeMode
    var queueMode: FeatureTransformOptions.QueueMode
    var granularity: FeatureTransformOptions.Granularity
    var renormalize: FeatureTransformOptions.Renormalization
    var options: FeatureTransformOptions {
        FeatureTransformOptions(positive: positive, negative: negative, granularity: granularity,
                                renormalize: renormalize, queueMode: queueMode)
    }
    var description: String { "\(positive)/\(negative)-\(queueMode)/\(granularity)/renorm-\(renormalize)" }

    /// Every mode × granularity × renormalisation (union only with negative interpolation), FT off included once.
    static var all: [BlockCase] {
        var cases = [BlockCase(positive: .none, negative: .none, queueMode: .replace, granularity: .batch, renormalize: .none)]
        for p in FeatureTransformOptions.PositiveMode.allCases {
            for (n, qm) in [(FeatureTransformOptions.NegativeMode.none, FeatureTransformOptions.QueueMode.replace),
                            (.interpolate, .replace), (.interpolate, .union)] where !(p == .none && n == .none) {
                for g in FeatureTransformOptions.Granularity.allCases {
                    for r in FeatureTransformOptions.Renormalization.allCases {
                        cases.append(BlockCase(positive: p, negative: n, queueMode: qm, granularity: g, renormalize: r))
                    }
                }
            }
        }
        return cases
    }
}

/// Gradient check of the FT + InfoNCE block for every mode, granularity and renormalisation: the Float
/// backward against central differences of the Double reference (step 1e-6). Tolerance: the error norm is at
/// most 1e-5 of the gradient norm (measured: ≤ 4e-7 over all cases, from Float rounding).
/// The loss itself matches the reference to 1e-5 relative, the scores to 1e-5 absolute.
@Test(arguments: BlockCase.all)
func backwardMatchesFiniteDifferences(_ c: BlockCase) {
    let B = 3, D = 4, K = 5
    let tau: Float = 0.1
    var g = SeededGenerator(seed: 42)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    var drawGen = SeededGenerator(seed: 7)
    let draws = c.options.draw(batchSize: B, queueSize: K, dimension: D, generator: &drawGen)
    let result = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: tau, draws: draws)

    let qd = q.map(Double.init), kd = k.map(Double.init), nd = n.map(Double.init)
    let reference = ReferenceInfoNCE(queries: qd, keys: kd, queue: nd, B: B, D: D, K: K, tau: Double(tau), draws: draws)
    #expect(abs(result.loss - reference.loss) <= 1e-5 * max(1, abs(reference.loss)))
    #expect(result.scores.transformedNegativeCount == reference.negative.count / B)
    for i in 0..<B { #expect(abs(Double(result.scores.transformedPositive[i]) - reference.positive[i]) < 1e-5) }
    for (a, b) in zip(result.scores.transformedNegative, reference.negative) { #expect(abs(Double(a) - b) < 1e-5) }

    let h = 1e-6
    var errorSquared = 0.0, normSquared = 0.0
    for index in 0..<(B * D) {
        var plus = qd, minus = qd
        plus[index] += h; minus[index] -= h
        let lp = ReferenceInfoNCE(queries: plus, keys: kd, queue: nd, B: B, D: D, K: K, tau: Double(tau), draws: draws).loss
        let lm = ReferenceInfoNCE(queries: minus, keys: kd, queue: nd, B: B, D: D, K: K, tau: Double(tau), draws: draws).loss
        let numeric = (lp - lm) / (2 * h)
        let analytic = Double(result.queryGradient.storage[index])
        errorSquared += (numeric - analytic) * (numeric - analytic)
        normSquared += numeric * numeric
    }
    #expect(normSquared > 1e-8)
    #expect(errorSquared.squareRoot() <= 1e-5 * normSquared.squareRoot(), "relative error \(errorSquared.squareRoot() / normSquared.squareRoot())")
}

@Test func rawScoresAreTheUntransformedCosines() {
    let B = 4, D = 6, K = 7
    var g = SeededGenerator(seed: 1)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    var drawGen = SeededGenerator(seed: 2)
    let draws = FeatureTransformOptions.paper.draw(batchSize: B, queueSize: K, dimension: D, generator: &drawGen)
    let scores = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws).scores
    let plain = ReferenceInfoNCE(queries: q.map(Double.init), keys: k.map(Double.init), queue: n.map(Double.init),
                                 B: B, D: D, K: K, tau: 0.2, draws: .identity)
    for i in 0..<B { #expect(abs(Double(scores.positive[i]) - plain.positive[i]) < 1e-6) }
    #expect(scores.negative.count == B * K)
    for (a, b) in zip(scores.negative, plain.negative) { #expect(abs(Double(a) - b) < 1e-6) }
}

/// Issue 5: with batch λ and no renormalisation, ẑ_q·ẑ_k = s − 2λ(λ−1)(1−s) for unit z_q, z_k.
@Test func extrapolationLowersThePositiveScoreByTheClosedForm() {
    let B = 16, D = 32, K = 8
    var g = SeededGenerator(seed: 5)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    var drawGen = SeededGenerator(seed: 6)
    for _ in 0..<5 {
        let draws = FeatureTransformOptions(positive: .extrapolate).draw(batchSize: B, queueSize: K, dimension: D, generator: &drawGen)
        let lambda = draws.positiveLambdas[0]
        #expect(lambda >= 1 && lambda <= 2)
        let scores = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws).scores
        for i in 0..<B {
            let s = scores.positive[i]
            let expected = s - 2 * lambda * (lambda - 1) * (1 - s)
            // Float rounding: the transformed vectors have entries of size ≤ 3, sums of 32 products.
            #expect(abs(scores.transformedPositive[i] - expected) < 2e-5)
            #expect(scores.transformedPositive[i] <= s + 1e-6)
        }
    }
}

@Test func interpolationRaisesThePositiveScore() {
    let B = 16, D = 32, K = 8
    var g = SeededGenerator(seed: 8)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    var drawGen = SeededGenerator(seed: 9)
    for granularity in [FeatureTransformOptions.Granularity.batch, .sample] {
        let draws = FeatureTransformOptions(positive: .interpolate, granularity: granularity)
            .draw(batchSize: B, queueSize: K, dimension: D, generator: &drawGen)
        let scores = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws).scores
        for i in 0..<B {
            let lambda = draws.positiveLambdas[granularity == .batch ? 0 : i]
            let s = scores.positive[i]
            #expect(abs(scores.transformedPositive[i] - (s - 2 * lambda * (lambda - 1) * (1 - s))) < 2e-5)
            #expect(scores.transformedPositive[i] >= s - 1e-6)
        }
    }
}

@Test(arguments: FeatureTransformOptions.Granularity.allCases)
func mixedNegativesLieBetweenTheirSources(_ granularity: FeatureTransformOptions.Granularity) {
    let D = 8, K = 12
    var g = SeededGenerator(seed: 10)
    let queue = KeyQueue(capacity: K, dimension: D, generator: &g)
    let draws = FeatureTransformOptions(negative: .interpolate, granularity: granularity)
        .draw(batchSize: 4, queueSize: K, dimension: D, generator: &g)
    #expect(draws.negativePermutation.sorted() == Array(0..<K))
    let mixed = InfoNCE.mixedNegatives(queue: queue, draws: draws)
    for j in 0..<K {
        let partner = draws.negativePermutation[j]
        for d in 0..<D {
            let a = queue.keys[j * D + d], b = queue.keys[partner * D + d]
            #expect(mixed[j * D + d] >= min(a, b) - 1e-7 && mixed[j * D + d] <= max(a, b) + 1e-7)
        }
    }
}

@Test func unionDoublesTheLogitWidthAndKeepsThePlainScoresFirst() {
    let B = 3, D = 4, K = 6
    var g = SeededGenerator(seed: 12)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    let draws = FeatureTransformOptions(negative: .interpolate, queueMode: .union)
        .draw(batchSize: B, queueSize: K, dimension: D, generator: &g)
    let scores = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws).scores
    #expect(scores.transformedNegativeCount == 2 * K)
    #expect(scores.transformedNegative.count == B * 2 * K)
    #expect(scores.negative.count == B * K)
    for i in 0..<B {
        #expect(Array(scores.transformedNegative[(i * 2 * K)..<(i * 2 * K + K)]) == Array(scores.negative[(i * K)..<(i * K + K)]))
    }
}

@Test func theStoredQueueIsNeverMixed() {
    let B = 3, D = 4, K = 6
    var g = SeededGenerator(seed: 13)
    let queue = KeyQueue(capacity: K, dimension: D, generator: &g)
    let before = queue
    var block = InfoNCE(temperature: 0.2)
    let draws = FeatureTransformOptions.paper.draw(batchSize: B, queueSize: K, dimension: D, generator: &g)
    _ = block.lossAndGradient(queries: Tensor(shape: [B, D], storage: randomUnitRows(B, D, &g)),
                              keys: Tensor(shape: [B, D], storage: randomUnitRows(B, D, &g)), queue: queue, draws: draws)
    #expect(queue == before)
}

/// FT off draws nothing and gives the untransformed block; λ = 1 (ẑ = z, n̂ = n) reproduces it bit for bit.
@Test func transformationOffIsTheUntransformedBlockBitForBit() {
    let B = 8, D = 16, K = 24
    var g = SeededGenerator(seed: 14)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    var drawGen = SeededGenerator(seed: 15)
    let before = drawGen
    let off = FeatureTransformOptions.off.draw(batchSize: B, queueSize: K, dimension: D, generator: &drawGen)
    #expect(off == .identity && drawGen == before)
    let plain = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: .identity)
    let unitLambda = FeatureTransformDraws(positiveLambdas: [1], negativeLambdas: [1],
                                           negativePermutation: Array((0..<K).reversed()))
    let same = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: unitLambda)
    #expect(plain.loss == same.loss)
    #expect(plain.queryGradient == same.queryGradient)
    #expect(plain.scores.transformedNegative == same.scores.transformedNegative)
    #expect(plain.scores.negative == plain.scores.transformedNegative)
    #expect(!plain.scores.isTransformed && same.scores.isTransformed)
}

@Test func sameSeedGivesTheSameLambdaSequence() {
    func sequence(seed: UInt64) -> [FeatureTransformDraws] {
        var g = SeededGenerator(seed: seed)
        let options = FeatureTransformOptions(positive: .extrapolate, negative: .interpolate, granularity: .sample)
        return (0..<6).map { _ in options.draw(batchSize: 4, queueSize: 10, dimension: 3, generator: &g) }
    }
    let a = sequence(seed: 99), b = sequence(seed: 99), c = sequence(seed: 100)
    #expect(a == b)
    #expect(a != c)
    #expect(a[0].positiveLambdas != a[1].positiveLambdas)      // fresh draws each step
    for draws in a {
        #expect(draws.positiveLambdas.allSatisfy { $0 >= 1 && $0 <= 2 })
        #expect(draws.negativeLambdas.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

@Test func uniformDistributionDrawsInTheUnitInterval() {
    var g = SeededGenerator(seed: 3)
    let options = FeatureTransformOptions(positive: .extrapolate, negative: .interpolate, distribution: .uniform, granularity: .element)
    let draws = options.draw(batchSize: 50, queueSize: 40, dimension: 10, generator: &g)
    #expect(draws.positiveLambdas.count == 500 && draws.negativeLambdas.count == 400)
    #expect(draws.positiveLambdas.allSatisfy { $0 >= 1 && $0 < 2 })
    let mean = draws.negativeLambdaMean ?? -1
    #expect(abs(mean - 0.5) < 0.05)        // 400 uniform draws: standard error 0.014
}

@Test func resultsDoNotDependOnTheThreadCount() {
    let B = 32, D = 16, K = 40
    var g = SeededGenerator(seed: 16)
    let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g), n = randomUnitRows(K, D, &g)
    let draws = FeatureTransformOptions(positive: .extrapolate, negative: .interpolate, queueMode: .union)
        .draw(batchSize: B, queueSize: K, dimension: D, generator: &g)
    let one = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws, threads: 1)
    let two = runBlock(queries: q, keys: k, queue: n, B: B, D: D, tau: 0.2, draws: draws, threads: 2)
    #expect(one.loss == two.loss && one.accuracy == two.accuracy)
    #expect(one.queryGradient == two.queryGradient)
    #expect(one.scores.transformedNegative == two.scores.transformedNegative)
}

@Test func accuracyCountsQueriesWhosePositiveWins() {
    // Query 0 matches its key exactly; query 1's key is orthogonal while a queue row equals the query.
    let D = 2
    let q: [Float] = [1, 0, 0, 1], k: [Float] = [1, 0, 1, 0], n: [Float] = [0, 1, -1, 0]
    let result = runBlock(queries: q, keys: k, queue: n, B: 2, D: D, tau: 0.5, draws: .identity)
    #expect(result.accuracy == 0.5)
}

@Test func workspaceIsReusedAcrossSteps() {
    // Two steps through the same block give the same answers as two fresh blocks (no stale workspace).
    let B = 4, D = 8, K = 10
    var g = SeededGenerator(seed: 17)
    let queue = KeyQueue(capacity: K, dimension: D, generator: &g)
    var block = InfoNCE(temperature: 0.2)
    for step in 0..<3 {
        let q = randomUnitRows(B, D, &g), k = randomUnitRows(B, D, &g)
        let options: FeatureTransformOptions = step == 1 ? .paper : .off
        let draws = options.draw(batchSize: B, queueSize: K, dimension: D, generator: &g)
        let reused = block.lossAndGradient(queries: Tensor(shape: [B, D], storage: q), keys: Tensor(shape: [B, D], storage: k),
                                           queue: queue, draws: draws)
        let fresh = runBlock(queries: q, keys: k, queue: queue.keys, B: B, D: D, tau: 0.2, draws: draws)
        #expect(reused.loss == fresh.loss && reused.queryGradient == fresh.queryGradient)
        #expect(reused.scores.transformedNegative == fresh.scores.transformedNegative)
    }
}

/// The vectorised exp of the softmax matches libm to 2e-7 relative (measured: 7.6e-8, under 1 ulp) on [−87, 0].
@Test func vectorisedExponentialMatchesLibm() {
    var worst: Float = 0
    var x: Float = -87
    while x <= 0 {
        let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 1.37e-3 })
        let e = exponential(lanes)
        for l in 0..<8 {
            let reference = Foundation.exp(Double(lanes[l]))
            worst = max(worst, Float(abs(Double(e[l]) - reference) / reference))
        }
        x += 0.0113
    }
    #expect(worst <= 2e-7, "worst relative error \(worst)")
    #expect(exponential(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
    #expect(exponential(SIMD8(repeating: -200))[0] < 1e-37)
    #expect(exponential(SIMD8(repeating: .nan))[0].isNaN)
}
