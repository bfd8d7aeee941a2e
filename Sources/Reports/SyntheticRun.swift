// SyntheticRun: writes a run store with synthetic but realistic-looking numbers, through RunStore, for the
// plotting benchmark, the Reports tests and previews of the figures before real training runs exist.
//
// The shapes follow method.md ("What the paper visualises"), per key momentum m:
//   m = 0.999, 0.99: neg variance rises to ≈0.04 in the first ~10 % of the steps, then decays to ≈0.012;
//                    neg mean ≈ 0; pos mean rises gradually (0.3 → 0.78 at 0.999, 0.55 → 0.8 at 0.99);
//   m = 0.9:         pos mean ≈ 0.87–0.9 from the start, neg variance spikes to ≈0.22 and stays higher and noisy;
//   m = 0.6 … 0.5:   neg variance spikes to ≈0.4 (a two-mode neg distribution), neg mean swings −0.3 … +0.5;
//   m = 1:           flat, low pos mean (≈0.17) and a loss that hardly falls.
// Noise is autocorrelated (AR(1)) and grows as m falls. Every step stores pos/neg histograms (pos: B sampled
// scores; neg: the B×K counts of the step's distribution, binned exactly), the `steps` row with moments that
// match those histograms, and with FT the pos_ft/neg_ft histograms, λ_ex and λ_in. Events: queue filled,
// LR drops, FT start, finished; kNN top-1 after every epoch and a linear probe at the end, in PERCENT (0–100);
// geometry samples (z_q, z_k, ẑ_q, ẑ_k, negatives and mixed negatives, 128-d) every `sampleEvery` steps.
// All randomness comes from `seed` through a SplitMix64 generator: same options, same store contents.
// Deliberately not here: anything a real trainer does. These numbers are never results; they only look like them.
import Foundation
import Recording

/// Options of a synthetic run (defaults stated per field).
public struct SyntheticRunOptions: Sendable {
    /// Key momentum m; default 0.99.
    public var momentum: Double
    /// Number of steps; default 2000.
    public var steps: Int
    /// Steps per epoch; default 100.
    public var stepsPerEpoch: Int
    /// Batch size B (positive scores per step); default 256.
    public var batchSize: Int
    /// Queue size K (negatives per query); default 4096.
    public var queueSize: Int
    /// Seed of every random number; default 1.
    public var seed: UInt64
    /// Record pos_ft/neg_ft streams, λs and transformed samples (positive extrapolation + negative
    /// interpolation); default false.
    public var featureTransform: Bool
    /// Fractions of the run at which the LR drops ×0.1 (each gets an `lr_drop` event); default [0.6, 0.8].
    public var learningRateDrops: [Double]
    /// Geometry samples every this many steps (0 = none); default 500.
    public var sampleEvery: Int
    /// Extra top-level string keys of the stored config JSON (e.g. ["name": "baseline"]); default none.
    public var extraConfig: [String: String]

    /// Options with the defaults stated on each property.
    public init(momentum: Double = 0.99, steps: Int = 2000, stepsPerEpoch: Int = 100, batchSize: Int = 256,
                queueSize: Int = 4096, seed: UInt64 = 1, featureTransform: Bool = false,
                learningRateDrops: [Double] = [0.6, 0.8], sampleEvery: Int = 500, extraConfig: [String: String] = [:]) {
        self.momentum = momentum
        self.steps = steps
        self.stepsPerEpoch = stepsPerEpoch
        self.batchSize = batchSize
        self.queueSize = queueSize
        self.seed = seed
        self.featureTransform = featureTransform
        self.learningRateDrops = learningRateDrops
        self.sampleEvery = sampleEvery
        self.extraConfig = extraConfig
    }
}

/// Writes synthetic run stores (see the file header).
public enum SyntheticRun {
    /// Creates (or replaces) the run store in `directory` with the synthetic run of `options`. Throws
    /// `ReportError.badOption` for impossible options and store errors as they come.
    public static func write(directory: String, options: SyntheticRunOptions) throws {
        if options.steps < 1 || options.stepsPerEpoch < 1 || options.batchSize < 2 || options.queueSize < 1 {
            throw ReportError.badOption("synthetic run: steps, steps per epoch and queue size must be ≥ 1 and the batch ≥ 2")
        }
        if !(0...1).contains(options.momentum) {
            throw ReportError.badOption("synthetic run: momentum must be in [0, 1], got \(options.momentum)")
        }
        let path = (directory as NSString).appendingPathComponent(RunStore.fileName)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try RunStore(directory: directory, durability: .crashSafe)
        var generator = Generator(options: options)
        try store.setConfig(json: generator.configJSON())
        var specs: [ScoreStream: HistogramSpec] = [.positive: .cosine, .negative: .cosine]
        if options.featureTransform { specs[.positiveTransformed] = .transformed; specs[.negativeTransformed] = .transformed }
        try store.setHistogramSpecs(specs)
        try store.setStatus(.running)
        for event in generator.events() where event.step <= 1 { try store.addEvent(event) }
        let laterEvents = generator.events().filter { $0.step > 1 }
        for step in 1...options.steps {
            let record = try generator.step(step)
            try store.record(step: record.step, histograms: record.histograms, samples: record.samples)
            for event in laterEvents where event.step == step { try store.addEvent(event) }
            if step % options.stepsPerEpoch == 0 || step == options.steps {
                let epoch = (step - 1) / options.stepsPerEpoch + 1
                try store.addEval(EvalRecord(step: step, epoch: epoch, kind: .knn, top1: generator.knnTop1(step: step)))
            }
        }
        let epochs = (options.steps - 1) / options.stepsPerEpoch + 1
        try store.addEval(EvalRecord(step: options.steps, epoch: epochs, kind: .linear,
                                     top1: min(99, generator.knnTop1(step: options.steps) + 1.8)))
        try store.setStatus(.finished, event: RunEvent(step: options.steps, kind: .finished))
        try store.close()
    }
}

// MARK: - The generator

/// SplitMix64: a tiny explicit seeded generator (the numbers only need to look plausible and be reproducible).
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
    /// Beta(2, 2): the median of three uniforms.
    mutating func beta22() -> Double {
        let a = uniform(), b = uniform(), c = uniform()
        return max(min(a, b), min(max(a, b), c))
    }
}

/// Smooth AR(1) noise with unit stationary variance and correlation `rho` per step.
struct SmoothNoise {
    var value = 0.0
    let rho: Double
    mutating func next(_ g: inout SplitMix64) -> Double {
        value = rho * value + (1 - rho * rho).squareRoot() * g.normal()
        return value
    }
}

private struct Generator {
    let o: SyntheticRunOptions
    /// 0 (smooth, m → 1) … 1 (noisy, m = 0.5 and below).
    let roughness: Double
    let frozen: Bool
    var random: SplitMix64
    var varianceNoise = SmoothNoise(rho: 0.97)
    var meanNoise = SmoothNoise(rho: 0.995)
    var positiveNoise = SmoothNoise(rho: 0.98)
    var lossNoise = SmoothNoise(rho: 0.9)
    let queueFilledStep: Int

    init(options: SyntheticRunOptions) {
        o = options
        frozen = options.momentum >= 1
        // Piecewise linear in x = −log10(1 − m): 0.5 → 1, 0.9 → 0.5, 0.99 → 0.12, 0.999 → 0.05.
        let x = options.momentum >= 1 ? 4 : -log10(max(1 - options.momentum, 1e-4))
        roughness = Generator.interpolate(x, [(0.30, 1.0), (0.40, 0.9), (0.52, 0.8), (0.70, 0.65), (1, 0.5), (2, 0.12), (3, 0.05), (4, 0.03)])
        random = SplitMix64(seed: options.seed &* 7919 &+ UInt64(options.momentum * 1e6))
        queueFilledStep = max(1, (options.queueSize + options.batchSize - 1) / options.batchSize)
    }

    static func interpolate(_ x: Double, _ table: [(Double, Double)]) -> Double {
        if x <= table[0].0 { return table[0].1 }
        for i in 1..<table.count where x <= table[i].0 {
            let (x0, y0) = table[i - 1], (x1, y1) = table[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        return table[table.count - 1].1
    }

    func configJSON() -> String {
        var object: [String: Any] = [
            "synthetic": true, "momentum": o.momentum, "seed": Int(o.seed), "batchSize": o.batchSize,
            "queueSize": o.queueSize, "epochs": (o.steps - 1) / o.stepsPerEpoch + 1, "dataset": "synthetic",
            "temperature": 0.2, "lr": 0.06, "sampleEvery": o.sampleEvery,
            "ft": ["positive": o.featureTransform ? "extrapolate" : "none",
                   "negative": o.featureTransform ? "interpolate" : "none", "alphaPositive": 2.0, "alphaNegative": 1.6],
        ]
        for (key, value) in o.extraConfig { object[key] = value }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func dropSteps() -> [Int] {
        o.learningRateDrops.map { max(2, Int(($0 * Double(o.steps)).rounded())) }.filter { $0 <= o.steps }
    }

    func events() -> [RunEvent] {
        var events: [RunEvent] = []
        if o.featureTransform { events.append(RunEvent(step: 1, kind: .featureTransformStarted, detail: "epoch 1")) }
        if queueFilledStep <= o.steps { events.append(RunEvent(step: queueFilledStep, kind: .queueFilled)) }
        var lr = 0.06
        for step in dropSteps() {
            events.append(RunEvent(step: step, kind: .learningRateDrop, detail: "lr \(lr) -> \(lr * 0.1)"))
            lr *= 0.1
        }
        return events.sorted { $0.step < $1.step }
    }

    /// Final kNN top-1 in percent, rising over training.
    func knnTop1(step: Int) -> Double {
        let t = Double(step) / Double(o.steps)
        let final = frozen ? 55.0 : 85.5 - 12 * roughness * roughness - 4.5 * max(0, 0.2 - roughness)
        let start = 38.0
        let value = final - (final - start) * exp(-t / 0.18)
        // A deterministic wobble per epoch so curves are not perfectly smooth.
        let wobble = 0.4 * sin(Double(step) * 0.37 + Double(o.seed))
        return ((value + wobble) * 10).rounded() / 10
    }

    mutating func step(_ step: Int) throws -> (step: StepRecord, histograms: [(stream: ScoreStream, histogram: ScoreHistogram)],
                                              samples: [GeometrySample]) {
        let t = Double(step) / Double(o.steps)
        let r = roughness
        let drops = dropSteps().filter { $0 <= step }.count
        let learningRate = 0.06 * pow(0.1, Double(drops))
        let queueFull = step >= queueFilledStep

        // Positive mean: from S to E with a time constant of a quarter of the run; m = 1 stays low.
        let positiveMean: Double
        let start = Generator.interpolate(r, [(0.05, 0.3), (0.12, 0.55), (0.5, 0.87), (1.0, 0.9)])
        let end = Generator.interpolate(r, [(0.05, 0.78), (0.12, 0.8), (0.5, 0.9), (1.0, 0.93)])
        if frozen {
            positiveMean = 0.17 + 0.01 * positiveNoise.next(&random)
        } else {
            positiveMean = min(0.985, end - (end - start) * exp(-t / 0.25) + (0.004 + 0.03 * r) * positiveNoise.next(&random))
        }
        let positiveSpread = frozen ? 0.08 : 0.05 + 0.18 * (1 - positiveMean)

        // Negative variance per query: a rise to P in ~10 % of the run, then a decay to F; noise grows as m falls.
        var negativeVariance: Double
        if !queueFull {
            negativeVariance = 1 / 128   // random unit keys in 128-d
        } else if frozen {
            negativeVariance = 0.009 * exp(0.05 * varianceNoise.next(&random))
        } else {
            let peak = 0.04 + 0.36 * pow(r, 1.5), floor = 0.012 + 0.09 * r * r
            let tau = 0.1
            let g = (t / tau) * exp(1 - t / tau)
            let sigma = 0.04 + 0.55 * r
            negativeVariance = (floor + (peak - floor) * g + (r > 0.3 ? 0.25 * peak * r * max(0, varianceNoise.value) : 0))
                * exp(sigma * varianceNoise.next(&random))
            if drops > 0 { negativeVariance *= 0.9 }
            negativeVariance = 0.45 * tanh(negativeVariance / 0.45)   // soft ceiling, no flat tops
        }
        let swing = frozen ? 0.005 : 0.01 + 0.42 * r * r
        // Swings of about −0.3 … +0.5 at m = 0.5 (a soft bound, so no flat stretches).
        let negativeMean = queueFull ? 0.1 * r * r + 0.4 * tanh(swing * meanNoise.next(&random) / 0.4) : 0

        // Histograms: B sampled positives; the B×K negatives binned exactly from a one- or two-mode normal.
        var positives: [Double] = []
        positives.reserveCapacity(o.batchSize)
        for _ in 0..<o.batchSize {
            // Reflected at ±1: cosines cannot leave [−1, 1], and clamping would pile mass on the edge bins.
            var value = positiveMean + positiveSpread * random.normal()
            if value > 1 { value = 2 - value }
            if value < -1 { value = -2 - value }
            positives.append(min(1, max(-1, value)))
        }
        let positive = try histogram(values: positives, spec: .cosine)
        let negativeCount = o.batchSize * o.queueSize
        let negative = try binnedNormal(mean: negativeMean, variance: negativeVariance, count: negativeCount, spec: .cosine)
        var histograms: [(stream: ScoreStream, histogram: ScoreHistogram)] = [(.positive, positive), (.negative, negative)]

        var lambdaExtrapolation: Double?, lambdaInterpolation: Double?
        if o.featureTransform {
            let lambdaEx = 1 + random.beta22(), lambdaIn = random.beta22()
            lambdaExtrapolation = lambdaEx
            lambdaInterpolation = lambdaIn
            let transformed = positives.map { s in s - 2 * lambdaEx * (lambdaEx - 1) * (1 - s) }
            histograms.append((.positiveTransformed, try histogram(values: transformed, spec: .transformed)))
            let shrink = lambdaIn * lambdaIn + (1 - lambdaIn) * (1 - lambdaIn)
            // Mixed negatives are convex combinations of unit rows: their scores stay in [−1, 1].
            histograms.append((.negativeTransformed, try binnedNormal(mean: negativeMean, variance: negativeVariance * shrink,
                                                                      count: negativeCount, spec: .transformed, within: -1...1)))
        }

        let loss = frozen
            ? 8.2 + 0.03 * lossNoise.next(&random)
            : (5.4 + 1.6 * r) + (log(Double(o.queueSize) + 1) - 5.4 - 1.6 * r) * exp(-t / 0.12)
                + (0.04 + 0.25 * r) * lossNoise.next(&random)
        let gradientNorm = (0.8 + 2.5 * exp(-t / 0.05)) * (1 + r) * exp((0.1 + 0.4 * r) * lossNoise.value)
        let scores = ScoreStatistics(positiveMean: positive.mean, positiveVariance: positive.variance,
                                     negativeMean: negative.mean, negativeVarianceQuery: negative.variance * 0.94,
                                     negativeVarianceAll: negative.variance)
        let record = StepRecord(step: step, epoch: (step - 1) / o.stepsPerEpoch + 1, learningRate: learningRate,
                                momentum: o.momentum, loss: loss, instanceAccuracy: min(1, max(0, 1 - loss / 9)),
                                gradientNorm: gradientNorm, scores: scores, lambdaExtrapolation: lambdaExtrapolation,
                                lambdaInterpolation: lambdaInterpolation, milliseconds: 180 + 10 * random.uniform())
        var samples: [GeometrySample] = []
        if o.sampleEvery > 0 && (step % o.sampleEvery == 0 || step == o.steps) {
            samples = geometrySamples(positiveMean: positiveMean, positiveSpread: positiveSpread,
                                      lambdaEx: lambdaExtrapolation, lambdaIn: lambdaInterpolation)
        }
        return (record, histograms, samples)
    }

    /// A histogram of explicit values with exact moments.
    func histogram(values: [Double], spec: HistogramSpec) throws -> ScoreHistogram {
        var counts = [UInt32](repeating: 0, count: spec.bins)
        var under = 0, over = 0, sum = 0.0, squares = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        for v in values {
            switch spec.position(of: v) {
            case .bin(let i): counts[i] += 1
            case .underflow: under += 1
            case .overflow: over += 1
            case .nan: continue
            }
            sum += v; squares += v * v; lo = min(lo, v); hi = max(hi, v)
        }
        return try ScoreHistogram(spec: spec, counts: counts, underflow: under, overflow: over, nanCount: 0, count: values.count,
                                  sum: sum, sumOfSquares: squares, minimum: lo, maximum: hi)
    }

    /// `count` values of a normal (two modes at mean ± d when the variance exceeds 0.05), binned exactly through
    /// the normal CDF with rounded cumulative counts, truncated to `bounds` (default: [−1, 1] on cosine edges, none
    /// otherwise). Moments are those of the bin centres.
    func binnedNormal(mean: Double, variance: Double, count: Int, spec: HistogramSpec,
                      within bounds: ClosedRange<Double>? = nil) throws -> ScoreHistogram {
        let core = min(variance, 0.05), d = max(0, variance - 0.05).squareRoot()
        let sigma = max(core.squareRoot(), 1e-4)
        let limits = bounds ?? (spec == .cosine ? spec.lower...spec.upper : -Double.infinity...Double.infinity)
        func raw(_ x: Double) -> Double {
            let a = 0.5 * erfc(-(x - mean + d) / (sigma * 2.0.squareRoot()))
            let b = 0.5 * erfc(-(x - mean - d) / (sigma * 2.0.squareRoot()))
            return d > 0 ? 0.5 * (a + b) : a
        }
        // Truncated to the bounds (cosines: [−1, 1]) and renormalised, so no mass piles on the edge bins.
        let low = limits.lowerBound.isFinite ? raw(limits.lowerBound) : 0, high = limits.upperBound.isFinite ? raw(limits.upperBound) : 1
        func cdf(_ x: Double) -> Double {
            if x <= limits.lowerBound { return 0 }
            if x >= limits.upperBound { return 1 }
            return (raw(x) - low) / max(high - low, 1e-12)
        }
        var counts = [UInt32](repeating: 0, count: spec.bins)
        let n = Double(count)
        var previous = Int((n * cdf(spec.lower)).rounded())
        let under = previous
        var sum = 0.0, squares = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        for b in 0..<spec.bins {
            let next = Int((n * cdf(spec.edge(b + 1))).rounded())
            let c = max(0, next - previous)
            counts[b] = UInt32(c)
            if c > 0 {
                let x = spec.center(b)
                sum += Double(c) * x; squares += Double(c) * x * x
                lo = min(lo, spec.edge(b)); hi = max(hi, spec.edge(b + 1))
            }
            previous = max(previous, next)
        }
        let over = count - previous
        if under > 0 { sum += Double(under) * spec.lower; squares += Double(under) * spec.lower * spec.lower; lo = spec.lower - spec.binWidth }
        if over > 0 { sum += Double(over) * spec.upper; squares += Double(over) * spec.upper * spec.upper; hi = spec.upper + spec.binWidth }
        return try ScoreHistogram(spec: spec, counts: counts, underflow: under, overflow: over, nanCount: 0, count: count,
                                  sum: sum, sumOfSquares: squares, minimum: lo, maximum: hi)
    }

    /// 8 query/key pairs (and their transforms) and 16 queue rows (and their mixes) in 128-d.
    mutating func geometrySamples(positiveMean: Double, positiveSpread: Double, lambdaEx: Double?, lambdaIn: Double?) -> [GeometrySample] {
        let dimension = 128, pairs = 8, rows = 16
        func unit(_ v: [Double]) -> [Double] {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / max(norm, 1e-12) }
        }
        func randomUnit() -> [Double] { unit((0..<dimension).map { _ in random.normal() }) }
        func float(_ v: [Double]) -> [Float] { v.map { Float($0) } }
        var samples: [GeometrySample] = []
        for i in 0..<pairs {
            let q = randomUnit()
            var u = randomUnit()
            let dot = zip(u, q).reduce(0) { $0 + $1.0 * $1.1 }
            u = unit(zip(u, q).map { $0 - dot * $1 })
            let s = min(0.999, max(-0.999, positiveMean + positiveSpread * random.normal()))
            let k = zip(q, u).map { s * $0 + (1 - s * s).squareRoot() * $1 }
            samples.append(GeometrySample(kind: .query, index: i, vector: float(q)))
            samples.append(GeometrySample(kind: .key, index: i, vector: float(k)))
            if let l = lambdaEx {
                samples.append(GeometrySample(kind: .transformedQuery, index: i, vector: float(zip(q, k).map { l * $0 + (1 - l) * $1 })))
                samples.append(GeometrySample(kind: .transformedKey, index: i, vector: float(zip(k, q).map { l * $0 + (1 - l) * $1 })))
            }
        }
        let negatives = (0..<rows).map { _ in randomUnit() }
        for j in 0..<rows { samples.append(GeometrySample(kind: .negative, index: j, vector: float(negatives[j]))) }
        if let l = lambdaIn {
            // A fixed derangement of the sampled rows: row j mixes with row j + 5 (mod 16).
            for j in 0..<rows {
                let partner = negatives[(j + 5) % rows]
                samples.append(GeometrySample(kind: .mixedNegative, index: j,
                                              vector: float(zip(negatives[j], partner).map { l * $0 + (1 - l) * $1 })))
            }
        }
        return samples
    }
}
