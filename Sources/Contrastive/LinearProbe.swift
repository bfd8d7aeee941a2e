// LinearProbe: the linear evaluation of frozen features: softmax regression on standardised features
// (train-set mean and standard deviation), trained on the train set, top-1/top-5 on the test set.
//
// Optimiser choice: full-batch L-BFGS (memory 10, backtracking Armijo line search) on the mean cross-entropy
// plus (weightDecay/2)·‖W‖², from zero weights. Why: it needs no learning rate (features of an untrained and a
// trained encoder have very different conditioning, and a fixed SGD rate that suits one diverges or crawls on
// the other), it converges to the regularised optimum so the number measures the features rather than the
// optimiser, and it is deterministic without any random draws (no shuffling), so no seed is needed.
// Cost per iteration ≈ 2 passes of an N×F by F×C product (60k×256×10: a few ms in release).
// Shape legend (kernel): N = train rows, M = test rows, F = features, C = classes, θ = [W (C×F), b (C)].
// Rows are cut into a fixed number of chunks and partial gradients are summed in chunk order, so results do
// not depend on the thread count.
// Deliberately not here: fine-tuning the encoder, augmentation, early stopping on the test set.
import NN
import Parallel
#if canImport(Glibc)
import Glibc
#endif

/// What the probe reports.
public struct LinearProbeResult: Sendable, Equatable {
    /// Accuracy on the test set.
    public var test: ClassifierAccuracy
    /// Top-1 accuracy on the train set (how separable the features are).
    public var trainTop1: Double
    /// Final value of the regularised objective.
    public var finalLoss: Double
    /// L-BFGS iterations actually run (fewer than asked when the gradient vanished).
    public var iterations: Int
}

/// Softmax regression on frozen features, trained by full-batch L-BFGS (see the file header for why).
public struct LinearProbe: Sendable {
    /// Maximum L-BFGS iterations (default 100); each costs one or a few passes over the train set.
    public var iterations: Int
    /// L2 penalty on the weights (not the bias), (weightDecay/2)·‖W‖²; default 1e-4.
    public var weightDecay: Double
    /// Number of correction pairs kept by L-BFGS (default 10).
    public var memory: Int

    /// Fixed number of row chunks: the unit of parallel work.
    static let rowChunks = 8

    /// A probe with the stated defaults.
    public init(iterations: Int = 100, weightDecay: Double = 1e-4, memory: Int = 10) {
        precondition(iterations >= 0 && weightDecay >= 0 && memory > 0,
                     "LinearProbe: iterations \(iterations), weightDecay \(weightDecay), memory \(memory)")
        self.iterations = iterations
        self.weightDecay = weightDecay
        self.memory = memory
    }

    /// Trains on (trainFeatures, trainLabels) and measures top-1/top-5 on the test rows.
    /// Features are row-major with `dimension` floats a row; labels lie in 0..<classCount.
    public func evaluate(trainFeatures: [Float], trainLabels: [Int], testFeatures: [Float], testLabels: [Int],
                         dimension: Int, classCount: Int, threads: Int = 1) -> LinearProbeResult {
        let F = dimension, N = trainLabels.count, M = testLabels.count, C = classCount
        precondition(F > 0 && trainFeatures.count == N * F && testFeatures.count == M * F,
                     "LinearProbe: \(trainFeatures.count) train / \(testFeatures.count) test floats for \(N) / \(M) rows of \(F)")
        precondition(N > 0 && C > 1, "LinearProbe: needs train rows and at least 2 classes")
        let (mean, scale) = standardization(trainFeatures, rows: N, dimension: F)
        let train = standardized(trainFeatures, mean: mean, scale: scale, dimension: F)
        let test = standardized(testFeatures, mean: mean, scale: scale, dimension: F)
        let objective = ProbeObjective(features: train, labels: trainLabels, dimension: F, classCount: C,
                                       weightDecay: weightDecay, threads: threads)
        var theta = [Double](repeating: 0, count: C * F + C)
        let (loss, used) = minimizeLBFGS(&theta, iterations: iterations, memory: memory) { objective.evaluate($0) }
        let trainAccuracy = accuracy(theta: theta, features: train, labels: trainLabels, dimension: F, classCount: C)
        let testAccuracy = M == 0 ? ClassifierAccuracy(top1: 0, top5: 0)
            : accuracy(theta: theta, features: test, labels: testLabels, dimension: F, classCount: C)
        return LinearProbeResult(test: testAccuracy, trainTop1: trainAccuracy.top1, finalLoss: loss, iterations: used)
    }
}

/// Per-feature mean and 1/std of the train rows (Double sums; constant features get scale 0).
func standardization(_ x: [Float], rows: Int, dimension: Int) -> (mean: [Float], scale: [Float]) {
    var sum = [Double](repeating: 0, count: dimension), sumSq = [Double](repeating: 0, count: dimension)
    for r in 0..<rows {
        for d in 0..<dimension {
            let v = Double(x[r * dimension + d])
            sum[d] += v; sumSq[d] += v * v
        }
    }
    var mean = [Float](repeating: 0, count: dimension), scale = [Float](repeating: 0, count: dimension)
    for d in 0..<dimension {
        let m = sum[d] / Double(rows)
        let variance = max(sumSq[d] / Double(rows) - m * m, 0)
        mean[d] = Float(m)
        scale[d] = variance > 1e-12 ? Float(1 / variance.squareRoot()) : 0
    }
    return (mean, scale)
}

func standardized(_ x: [Float], mean: [Float], scale: [Float], dimension: Int) -> [Float] {
    var out = x
    for i in 0..<out.count {
        let d = i % dimension
        out[i] = (out[i] - mean[d]) * scale[d]
    }
    return out
}

/// Logits X·Wᵀ + b for θ = [W, b], rows×C, through one sgemm.
func probeLogits(theta: [Double], features: UnsafePointer<Float>, rows: Int, dimension F: Int, classCount C: Int,
                 weights: [Float], output: UnsafeMutablePointer<Float>) {
    weights.withUnsafeBufferPointer { w in
        sgemm(.none, .transposed, m: rows, n: C, k: F, a: features, lda: F, b: w.baseAddress!, ldb: F,
              c: output, ldc: C)
    }
    for r in 0..<rows { for c in 0..<C { output[r * C + c] += Float(theta[C * F + c]) } }
}

/// Accuracy of the linear classifier θ on the given rows.
func accuracy(theta: [Double], features: [Float], labels: [Int], dimension F: Int, classCount C: Int) -> ClassifierAccuracy {
    let rows = labels.count
    let weights = theta[0..<(C * F)].map { Float($0) }
    var logits = [Float](repeating: 0, count: rows * C)
    features.withUnsafeBufferPointer { x in
        logits.withUnsafeMutableBufferPointer { o in
            probeLogits(theta: theta, features: x.baseAddress!, rows: rows, dimension: F, classCount: C,
                        weights: weights, output: o.baseAddress!)
        }
    }
    var hits1 = 0, hits5 = 0
    for r in 0..<rows {
        let rank = classRank(of: labels[r], votes: (0..<C).map { Double(logits[r * C + $0]) })
        if rank == 0 { hits1 += 1 }
        if rank < 5 { hits5 += 1 }
    }
    return ClassifierAccuracy(top1: Double(hits1) / Double(rows), top5: Double(hits5) / Double(rows))
}

/// Mean softmax cross-entropy of the linear classifier plus (weightDecay/2)·‖W‖², and its gradient.
struct ProbeObjective: Sendable {
    let features: [Float]
    let labels: [Int]
    let dimension: Int
    let classCount: Int
    let weightDecay: Double
    let threads: Int

    func evaluate(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
        let F = dimension, C = classCount, N = labels.count, P = C * F + C
        let chunks = min(LinearProbe.rowChunks, N)
        let weights = theta[0..<(C * F)].map { Float($0) }
        var partialGradients = [Float](repeating: 0, count: chunks * P)
        var partialLosses = [Double](repeating: 0, count: chunks)
        features.withUnsafeBufferPointer { xBuf in
        labels.withUnsafeBufferPointer { yBuf in
        partialGradients.withUnsafeMutableBufferPointer { gBuf in
        partialLosses.withUnsafeMutableBufferPointer { lBuf in
            let x = SendableConstPointer(xBuf), y = SendableConstPointer(yBuf)
            let g = SendablePointer(gBuf), l = SendablePointer(lBuf)
            parallelFor(chunks, threads: threads) { c in
                let rows = partRange(c, of: chunks, count: N)
                let r0 = rows.lowerBound, m = rows.count
                var logits = [Float](repeating: 0, count: m * C)
                var loss = 0.0
                logits.withUnsafeMutableBufferPointer { o in
                    let lp = o.baseAddress!
                    probeLogits(theta: theta, features: x.base + r0 * F, rows: m, dimension: F, classCount: C,
                                weights: weights, output: lp)
                    // Softmax in Double; dLogits = (p − onehot)/N written back over the logits.
                    var exps = [Double](repeating: 0, count: C)
                    for r in 0..<m {
                        let row = lp + r * C
                        var top = row[0]
                        for j in 1..<C { top = max(top, row[j]) }
                        var sum = 0.0
                        for j in 0..<C { exps[j] = exp(Double(row[j] - top)); sum += exps[j] }
                        let label = y.base[r0 + r]
                        loss += log(sum) - Double(row[label] - top)
                        let scale = 1 / (sum * Double(N))
                        for j in 0..<C { row[j] = Float(exps[j] * scale - (j == label ? 1 / Double(N) : 0)) }
                    }
                    let grad = g.base + c * P
                    // dW (C×F) = dLogitsᵀ (C×m) · X (m×F); db = column sums.
                    sgemm(.transposed, .none, m: C, n: F, k: m, a: lp, lda: C, b: x.base + r0 * F, ldb: F,
                          c: grad, ldc: F)
                    for r in 0..<m { for j in 0..<C { grad[C * F + j] += lp[r * C + j] } }
                }
                l.base[c] = loss
            }
        }}}}
        var gradient = [Double](repeating: 0, count: P)
        var value = 0.0
        for c in 0..<chunks {
            value += partialLosses[c]
            for p in 0..<P { gradient[p] += Double(partialGradients[c * P + p]) }
        }
        value /= Double(N)
        var penalty = 0.0
        for p in 0..<(C * F) {
            penalty += theta[p] * theta[p]
            gradient[p] += weightDecay * theta[p]
        }
        return (value + 0.5 * weightDecay * penalty, gradient)
    }
}

/// Minimises f by L-BFGS (two-loop recursion, backtracking Armijo line search with c₁ = 1e-4).
/// Returns the final value and the number of iterations run. Stops early when ‖∇f‖ < 1e-6 or no step helps.
func minimizeLBFGS(_ x: inout [Double], iterations: Int, memory: Int,
                   _ f: ([Double]) -> (value: Double, gradient: [Double])) -> (Double, Int) {
    func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
    var (value, gradient) = f(x)
    var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
    var done = 0
    for iteration in 0..<iterations {
        let gradientNorm = dot(gradient, gradient).squareRoot()
        if gradientNorm < 1e-6 || !gradientNorm.isFinite { break }
        // Two-loop recursion: direction = −H·g.
        var q = gradient
        var alphas = [Double](repeating: 0, count: sHistory.count)
        for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
            alphas[i] = rhoHistory[i] * dot(sHistory[i], q)
            for j in q.indices { q[j] -= alphas[i] * yHistory[i][j] }
        }
        if let s = sHistory.last, let y = yHistory.last {
            let gamma = dot(s, y) / dot(y, y)
            for j in q.indices { q[j] *= gamma }
        }
        for i in 0..<sHistory.count {
            let beta = rhoHistory[i] * dot(yHistory[i], q)
            for j in q.indices { q[j] += sHistory[i][j] * (alphas[i] - beta) }
        }
        var direction = q.map { -$0 }
        var slope = dot(direction, gradient)
        if slope >= 0 {                     // not a descent direction: restart from steepest descent
            direction = gradient.map { -$0 }
            slope = -gradientNorm * gradientNorm
            sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
        }
        var step = iteration == 0 && sHistory.isEmpty ? min(1, 1 / gradientNorm) : 1
        var accepted = false
        var candidate = x, newValue = value, newGradient = gradient
        for _ in 0..<30 {
            for j in x.indices { candidate[j] = x[j] + step * direction[j] }
            (newValue, newGradient) = f(candidate)
            if newValue.isFinite && newValue <= value + 1e-4 * step * slope { accepted = true; break }
            step *= 0.5
        }
        if !accepted { break }
        let s = (0..<x.count).map { candidate[$0] - x[$0] }
        let y = (0..<x.count).map { newGradient[$0] - gradient[$0] }
        let sy = dot(s, y)
        if sy > 1e-12 {
            sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
            if sHistory.count > memory { sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst() }
        }
        x = candidate; value = newValue; gradient = newGradient
        done = iteration + 1
    }
    return (value, done)
}
