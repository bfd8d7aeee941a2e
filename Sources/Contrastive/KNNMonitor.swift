// KNNMonitor: the weighted k-nearest-neighbour accuracy used to watch self-supervised training (the MoCo CIFAR
// demo convention, after Wu et al. 2018): features L2-normalised, cosine similarity, the k nearest training
// features vote for their class with weight exp(sim / t); top-1 and top-5 over the test set.
// Works on plain feature matrices, so it can be tested without a model.
// Shape legend (kernel): N = train rows, M = test rows, F = feature length, C = classes, R = test rows per chunk,
// T = train rows per block. Each chunk of R test rows walks the train set in blocks of T rows (one R×T sgemm
// each, so neither the similarity buffer nor OpenBLAS's packing of the train matrix grows with N) and keeps a
// running top-k heap per test row. The chunking is fixed, so results do not depend on the thread count.
// Deliberately not here: feature extraction (the learner's `features(images:)`), any training.
import Dispatch
import NN
import Parallel
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

    /// Test rows per chunk and train rows per similarity block.
    static let rowsPerChunk = 256, trainRowsPerBlock = 4096

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
                let T = min(Self.trainRowsPerBlock, N)
                var similarity = [Float](repeating: 0, count: R * T)
                var heapSims = [Float](repeating: 0, count: R * k), heapIndex = [Int](repeating: 0, count: R * k)
                var filled = [Int](repeating: 0, count: R)
                var votes = [Double](repeating: 0, count: C)
                var c = w
                while c < chunks {
                    let r0 = c * R, m = min(R, M - r0)
                    for r in 0..<m { filled[r] = 0 }
                    var n0 = 0
                    while n0 < N {
                        let n = min(T, N - n0)
                        similarity.withUnsafeMutableBufferPointer { s in
                            sgemm(.none, .transposed, m: m, n: n, k: F, a: testP.base + r0 * F, lda: F,
                                  b: trainP.base + n0 * F, ldb: F, c: s.baseAddress!, ldc: n)
                            heapSims.withUnsafeMutableBufferPointer { hs in
                                heapIndex.withUnsafeMutableBufferPointer { hi in
                                    for r in 0..<m {
                                        offerToTopK(s.baseAddress! + r * n, count: n, firstIndex: n0, k: k,
                                                    sims: hs.baseAddress! + r * k, indices: hi.baseAddress! + r * k,
                                                    filled: &filled[r])
                                    }
                                }
                            }
                        }
                        n0 += n
                    }
                    var hits1 = 0, hits5 = 0
                    for r in 0..<m {
                        for cl in 0..<C { votes[cl] = 0 }
                        for j in 0..<filled[r] {
                            votes[trainLabelP.base[heapIndex[r * k + j]]] += Double(expf(heapSims[r * k + j] / t))
                        }
                        let rank = classRank(of: testLabelP.base[r0 + r], votes: votes)
                        if rank == 0 { hits1 += 1 }
                        if rank < 5 { hits5 += 1 }
                    }
                    top1P.base[c] = hits1
                    top5P.base[c] = hits5
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

/// Offers `count` values (global indices firstIndex…) to a running min-heap of the k best so far, ordered by
/// value, ties going to the lower index (so the kept set is the top k by (value desc, index asc) whatever the
/// blocking). `filled` is the heap's current size (≤ k).
@inline(__always)
func offerToTopK(_ values: UnsafePointer<Float>, count: Int, firstIndex: Int, k: Int,
                 sims: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int>, filled: inout Int) {
    // "a is worse than b": smaller value, or equal value and larger index.
    @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool {
        sims[a] < sims[b] || (sims[a] == sims[b] && indices[a] > indices[b])
    }
    @inline(__always) func swapAt(_ a: Int, _ b: Int) {
        let s = sims[a]; sims[a] = sims[b]; sims[b] = s
        let i = indices[a]; indices[a] = indices[b]; indices[b] = i
    }
    func siftDown(_ start: Int, size: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < size && worse(l, smallest) { smallest = l }
            if r < size && worse(r, smallest) { smallest = r }
            if smallest == i { return }
            swapAt(i, smallest)
            i = smallest
        }
    }
    var j = 0
    while filled < k && j < count {                   // filling: append and sift up
        var i = filled
        sims[i] = values[j]; indices[i] = firstIndex + j
        filled += 1
        while i > 0 {
            let parent = (i - 1) / 2
            if worse(i, parent) { swapAt(i, parent); i = parent } else { break }
        }
        j += 1
    }
    while j < count {                                 // full: replace the worst when strictly better
        let v = values[j]
        if v > sims[0] {                              // equal values keep the earlier (lower) index in the heap
            sims[0] = v; indices[0] = firstIndex + j
            siftDown(0, size: filled)
        }
        j += 1
    }
}

/// The k largest of `count` values (ties: the lower index wins) into `sims`/`indices`, in no particular order.
/// Returns how many were selected (min(k, count)).
func selectTopK(_ values: UnsafePointer<Float>, count: Int, k: Int, sims: inout [Float], indices: inout [Int]) -> Int {
    var filled = 0
    sims.withUnsafeMutableBufferPointer { s in
        indices.withUnsafeMutableBufferPointer { i in
            offerToTopK(values, count: count, firstIndex: 0, k: k, sims: s.baseAddress!, indices: i.baseAddress!, filled: &filled)
        }
    }
    return filled
}
