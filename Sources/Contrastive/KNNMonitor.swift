// KNNMonitor: the weighted k-nearest-neighbour accuracy used to watch self-supervised training (the MoCo CIFAR
// demo convention, after Wu et al. 2018): features L2-normalised, cosine similarity, the k nearest training
// features vote for their class with weight exp(sim / t); top-1 and top-5 over the test set.
// Works on plain feature matrices, so it can be tested without a model.
// Shape legend (kernel): N = train rows, M = test rows, F = feature length, C = classes, R = test rows per chunk.
// Test rows are cut into fixed chunks of R rows (one sgemm each), so results do not depend on the thread count.
// Deliberately not here: feature extraction (the learner's `features(images:)`), any training.
import Dispatch
import NN
#if canImport(Glibc)
import Glibc
#endif

/// Top-1 and top-5 accuracy of a classifier on a test set, in [0, 1].
public struct ClassifierAccuracy: Sendable, Equatable, Codable {
    /// Fraction of test items whose best class is the label.
    public var top1: Double
    /// Fraction of test items whose label is among the 5 best classes (1 when there are ≤ 5 classes).
    public var top5: Double

    /// An accuracy pair (both in [0, 1]).
    public init(top1: Double, top5: Double) {
        self.top1 = top1
        self.top5 = top5
    }
}

/// The weighted kNN classifier on frozen features.
public struct KNNMonitor: Sendable {
    /// Neighbours that vote (default 200; capped at the train set size).
    public var neighbors: Int
    /// t in the vote weight exp(sim / t) (default 0.1).
    public var temperature: Float

    /// Test rows per similarity block.
    static let rowsPerChunk = 64

    /// A monitor with k = `neighbors` (default 200) and t = `temperature` (default 0.1).
    public init(neighbors: Int = 200, temperature: Float = 0.1) {
        precondition(neighbors > 0 && temperature > 0, "KNNMonitor: k \(neighbors) and t \(temperature) must be > 0")
        self.neighbors = neighbors
        self.temperature = temperature
    }

    /// Top-1/top-5 accuracy of the test rows against the train rows (both row-major, `dimension` floats a row).
    /// Labels must lie in 0..<classCount. Zero rows stay zero after normalisation (similarity 0 to all).
    public func evaluate(trainFeatures: [Float], trainLabels: [Int], testFeatures: [Float], testLabels: [Int],
                         dimension: Int, classCount: Int, threads: Int = 1) -> ClassifierAccuracy {
        let F = dimension, N = trainLabels.count, M = testLabels.count, C = classCount
        precondition(F > 0 && trainFeatures.count == N * F && testFeatures.count == M * F,
                     "KNNMonitor: \(trainFeatures.count) train / \(testFeatures.count) test floats for \(N) / \(M) rows of \(F)")
        precondition(N > 0 && C > 0, "KNNMonitor: empty train set or no classes")
        if M == 0 { return ClassifierAccuracy(top1: 0, top5: 0) }
        let train = l2NormalizedRows(trainFeatures, dimension: F)
        let test = l2NormalizedRows(testFeatures, dimension: F)
        let k = min(neighbors, N), t = temperature
        let R = Self.rowsPerChunk
        let chunks = (M + R - 1) / R
        var top1Hits = [Int](repeating: 0, count: chunks), top5Hits = [Int](repeating: 0, count: chunks)
        let workers = min(max(threads, 1), chunks)
        train.withUnsafeBufferPointer { trainBuf in
        test.withUnsafeBufferPointer { testBuf in
        trainLabels.withUnsafeBufferPointer { trainLabelBuf in
        testLabels.withUnsafeBufferPointer { testLabelBuf in
        top1Hits.withUnsafeMutableBufferPointer { top1Buf in
        top5Hits.withUnsafeMutableBufferPointer { top5Buf in
            let trainP = SendableConstPointer(trainBuf), testP = SendableConstPointer(testBuf)
            let trainLabelP = SendableConstPointer(trainLabelBuf), testLabelP = SendableConstPointer(testLabelBuf)
            let top1P = SendablePointer(top1Buf), top5P = SendablePointer(top5Buf)
            let work: @Sendable (Int) -> Void = { w in
                var similarity = [Float](repeating: 0, count: R * N)
                var heapSims = [Float](repeating: 0, count: k), heapIndex = [Int](repeating: 0, count: k)
                var votes = [Double](repeating: 0, count: C)
                var c = w
                while c < chunks {
                    let r0 = c * R, m = min(R, M - r0)
                    similarity.withUnsafeMutableBufferPointer { s in
                        sgemm(.none, .transposed, m: m, n: N, k: F, a: testP.pointer + r0 * F, lda: F,
                              b: trainP.pointer, ldb: F, c: s.baseAddress!, ldc: N)
                    }
                    var hits1 = 0, hits5 = 0
                    for r in 0..<m {
                        let count = similarity.withUnsafeBufferPointer { s in
                            selectTopK(s.baseAddress! + r * N, count: N, k: k, sims: &heapSims, indices: &heapIndex)
                        }
                        for cl in 0..<C { votes[cl] = 0 }
                        for j in 0..<count {
                            votes[trainLabelP.pointer[heapIndex[j]]] += Double(expf(heapSims[j] / t))
                        }
                        let label = testLabelP.pointer[r0 + r]
                        let rank = classRank(of: label, votes: votes)
                        if rank == 0 { hits1 += 1 }
                        if rank < 5 { hits5 += 1 }
                    }
                    top1P.pointer[c] = hits1
                    top5P.pointer[c] = hits5
                    c += workers
                }
            }
            if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        }}}}}}
        let hits1 = top1Hits.reduce(0, +), hits5 = top5Hits.reduce(0, +)
        return ClassifierAccuracy(top1: Double(hits1) / Double(M), top5: Double(hits5) / Double(M))
    }
}

/// Rows scaled to unit length (zero rows stay zero).
func l2NormalizedRows(_ x: [Float], dimension: Int) -> [Float] {
    var out = x
    let rows = x.count / dimension
    out.withUnsafeMutableBufferPointer { o in
        for r in 0..<rows {
            let row = o.baseAddress! + r * dimension
            var s = 0.0
            for d in 0..<dimension { s += Double(row[d]) * Double(row[d]) }
            if s > 0 {
                let inv = Float(1 / s.squareRoot())
                for d in 0..<dimension { row[d] *= inv }
            }
        }
    }
    return out
}

/// The 0-based rank of `label` when classes are sorted by votes, descending; ties go to the lower class index.
func classRank(of label: Int, votes: [Double]) -> Int {
    let v = votes[label]
    var rank = 0
    for (c, other) in votes.enumerated() where other > v || (other == v && c < label) { rank += 1 }
    return rank
}

/// The k largest of `count` values (ties: the lower index wins) into `sims`/`indices`, in no particular order.
/// A min-heap of size k keyed on (value, −index). Returns how many were selected (min(k, count)).
func selectTopK(_ values: UnsafePointer<Float>, count: Int, k: Int, sims: inout [Float], indices: inout [Int]) -> Int {
    let size = min(k, count)
    if size == 0 { return 0 }
    // "a is worse than b": smaller value, or equal value and larger index.
    @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
        sims[a] < sims[b] || (sims[a] == sims[b] && indices[a] > indices[b])
    }
    func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < size && worse(l, smallest) { smallest = l }
            if r < size && worse(r, smallest) { smallest = r }
            if smallest == i { return }
            sims.swapAt(i, smallest); indices.swapAt(i, smallest)
            i = smallest
        }
    }
    for j in 0..<size { sims[j] = values[j]; indices[j] = j }
    var i = size / 2 - 1
    while i >= 0 { siftDown(i); i -= 1 }
    if size < count {
        for j in size..<count {
            let v = values[j]
            if v > sims[0] {          // equal values keep the earlier (lower) index already in the heap
                sims[0] = v; indices[0] = j
                siftDown(0)
            }
        }
    }
    return size
}
