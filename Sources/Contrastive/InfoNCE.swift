// InfoNCE with the feature transformations fused in: one forward/backward pair on plain tensors.
// Inputs are the L2-normalised projections of the query (gradient wanted) and key encoders (detached) and
// the key queue; output is the loss, the instance accuracy, dL/dz_q, and the step's scores before and after
// the transformations (Zhu et al., ICCV 2021, section 4; MoCo: He et al., CVPR 2020).
//
//   pos_i = z_q,i·z_k,i    neg_ij = z_q,i·n_j                                  (recorded, cosines)
//   positives FT:  ẑ_q = λ z_q + (1−λ) z_k,  ẑ_k = λ z_k + (1−λ) z_q   [optionally renormalised]
//   negatives FT:  n̂_j = λ n_j + (1−λ) n_π(j)                          [optionally renormalised]
//   logits_i = [ẑ_q,i·ẑ_k,i, ẑ_q,i·N̂_1, …, ẑ_q,i·N̂_N] / τ,  loss = mean_i CE(logits_i, label 0)
//   where N̂ = n (no negative FT), n̂ (replace) or [n; n̂] (union, 2K rows).
//
// Shape legend (kernels below): B = batch, D = projection dimension, K = queue rows, N = negatives per query
// in the logits (K or 2K), m = rows of one chunk. q = z_q, k = z_k, qh/kh = ẑ_q/ẑ_k, mix = n̂.
// Rows are cut into a fixed number of chunks (independent of the thread count), so the bytes do not depend on
// the thread count. The B×K blocks go through `sgemm` into workspace arrays that are reused every step.
// Deliberately not here: gradients into the queue (it is a constant) or into z_k (detached), normalisation of
// the encoder output (done by the caller with NN's l2Normalize).
import NN
import Parallel
import SeededRandom

/// Loss, accuracy, gradient and scores of one InfoNCE step.
public struct InfoNCEResult: Sendable {
    /// Mean cross-entropy over the batch (label 0 = the positive), in Double.
    public var loss: Double
    /// Fraction of queries whose positive logit is at least every negative logit (ties count as hits).
    public var accuracy: Double
    /// dL/dz_q, B×D.
    public var queryGradient: Tensor
    /// The scores before and after the feature transformations.
    public var scores: StepScores
}

/// The InfoNCE loss over [positive, negatives]/τ with the feature transformations in front of the logits.
/// A value type that owns its workspace: keep one per learner so the B×K buffers are reused.
public struct InfoNCE: Sendable {
    /// τ, the softmax temperature (> 0): 0.07 in MoCo v1, 0.2 in MoCo v2.
    public var temperature: Float

    /// Fixed number of row chunks: the unit of parallel work (never depends on the thread count).
    static let rowChunks = 4

    // Workspace, reused from step to step (copy-on-write: a StepScores kept by the caller costs one copy).
    private var negativeBuffer: [Float] = []             // B×K raw scores
    private var transformedNegativeBuffer: [Float] = []  // B×N scores in the logits (FT steps only)
    private var arena: [Float] = []                      // qh, kh (B×D), mix (K×D), dScores (B×N), small B vectors

    /// An InfoNCE block with temperature `temperature` (must be > 0).
    public init(temperature: Float) {
        precondition(temperature > 0, "InfoNCE: temperature must be > 0, got \(temperature)")
        self.temperature = temperature
    }

    /// Forward and backward in one pass (the loss is always differentiated in training).
    /// - Parameters:
    ///   - queries: z_q, B×D, unit rows (the gradient is taken with respect to it).
    ///   - keys: z_k, B×D, unit rows (detached).
    ///   - queue: the K×D negatives (never modified).
    ///   - draws: this step's feature-transformation coefficients; `.identity` (the default) = no FT.
    ///   - threads: threads to use (default 1); results are identical for any value.
    public mutating func lossAndGradient(queries: Tensor, keys: Tensor, queue: KeyQueue,
                                         draws: FeatureTransformDraws = .identity, threads: Int = 1) -> InfoNCEResult {
        let B = queries.batch, D = queries.itemSize, K = queue.capacity
        precondition(keys.batch == B && keys.itemSize == D, "InfoNCE: keys \(keys.shape) do not match queries \(queries.shape)")
        precondition(queue.dimension == D, "InfoNCE: queue rows have \(queue.dimension) floats, queries \(D)")
        precondition(B > 0, "InfoNCE: empty batch")
        let ftPositive = draws.transformsPositives, ftNegative = draws.transformsNegatives
        let anyFT = ftPositive || ftNegative
        let N = draws.negativeCount(queueSize: K)
        let union = ftNegative && draws.queueMode == .union
        if ftPositive {
            let expected = draws.granularity == .batch ? 1 : draws.granularity == .sample ? B : B * D
            precondition(draws.positiveLambdas.count == expected, "InfoNCE: \(draws.positiveLambdas.count) positive λ for granularity \(draws.granularity), B \(B), D \(D)")
        }
        if ftNegative {
            let expected = draws.granularity == .batch ? 1 : draws.granularity == .sample ? K : K * D
            precondition(draws.negativeLambdas.count == expected && draws.negativePermutation.count == K,
                         "InfoNCE: \(draws.negativeLambdas.count) negative λ / \(draws.negativePermutation.count) π entries for granularity \(draws.granularity), K \(K), D \(D)")
        }

        // Arena layout.
        let oQh = 0, oKh = oQh + B * D, oMix = oKh + B * D, oGrad = oMix + (ftNegative ? K * D : 0)
        let oGradPos = oGrad + B * N, oPos = oGradPos + B, oPosFT = oPos + B, oNormQ = oPosFT + B, oNormK = oNormQ + B
        let arenaSize = oNormK + B
        if arena.count < arenaSize { arena = [Float](repeating: 0, count: arenaSize) }
        if negativeBuffer.count != B * K { negativeBuffer = [Float](repeating: 0, count: B * K) }
        if anyFT && transformedNegativeBuffer.count != B * N { transformedNegativeBuffer = [Float](repeating: 0, count: B * N) }
        // With FT off the logits read the raw scores and this buffer is not needed; an empty array is free.

        var gradient = Tensor(shape: [B, D])
        let chunks = min(Self.rowChunks, B)
        var lossPartials = [Double](repeating: 0, count: chunks)
        var hitPartials = [Int](repeating: 0, count: chunks)
        let tau = temperature

        var negative = negativeBuffer; negativeBuffer = []                 // hold the only reference
        var transformed = transformedNegativeBuffer; transformedNegativeBuffer = []
        var work = arena; arena = []

        queries.storage.withUnsafeBufferPointer { qBuf in
        keys.storage.withUnsafeBufferPointer { kBuf in
        queue.keys.withUnsafeBufferPointer { nBuf in
        negative.withUnsafeMutableBufferPointer { negBuf in
        transformed.withUnsafeMutableBufferPointer { ftBuf in
        work.withUnsafeMutableBufferPointer { wBuf in
        gradient.storage.withUnsafeMutableBufferPointer { gBuf in
        draws.positiveLambdas.withUnsafeBufferPointer { lpBuf in
        draws.negativeLambdas.withUnsafeBufferPointer { lnBuf in
        draws.negativePermutation.withUnsafeBufferPointer { permBuf in
        lossPartials.withUnsafeMutableBufferPointer { lossBuf in
        hitPartials.withUnsafeMutableBufferPointer { hitBuf in
            let q = SendableConstPointer(qBuf), k = SendableConstPointer(kBuf), n = SendableConstPointer(nBuf)
            let neg = SendablePointer(negBuf), ft = SendablePointer(ftBuf), w = SendablePointer(wBuf)
            let dq = SendablePointer(gBuf), lp = SendableConstPointer(lpBuf), ln = SendableConstPointer(lnBuf)
            let perm = SendableConstPointer(permBuf), lossOut = SendablePointer(lossBuf), hitOut = SendablePointer(hitBuf)
            let granularity = draws.granularity
            let renormPositive = draws.renormalize == .positive || draws.renormalize == .both
            let renormNegative = draws.renormalize == .negative || draws.renormalize == .both

            // 1. Mixed negatives n̂ (K×D), in row chunks; needed by every query row, so done first.
            if ftNegative {
                parallelFor(chunks, threads: threads) { c in
                    let rows = partRange(c, of: chunks, count: K)
                    mixNegatives(rows: rows, D: D, queue: n.base, permutation: perm.base,
                                 lambdas: ln.base, granularity: granularity, renormalize: renormNegative,
                                 output: w.base + oMix)
                }
            }

            // 2. Per row chunk: scores, softmax, gradient of the scores, backward to z_q.
            parallelFor(chunks, threads: threads) { c in
                let rows = partRange(c, of: chunks, count: B)
                let r0 = rows.lowerBound, m = rows.count
                let qp = q.base, kp = k.base, np = n.base, wp = w.base
                let pos = wp + oPos, posFT = wp + oPosFT

                // Raw scores (cosines): pos_i and neg (m×K) with one sgemm.
                for i in rows { pos[i] = dotProduct(qp + i * D, kp + i * D, D) }
                sgemm(.none, .transposed, m: m, n: K, k: D, a: qp + r0 * D, lda: D, b: np, ldb: D,
                      c: neg.base + r0 * K, ldc: K)

                // Transformed positives ẑ_q, ẑ_k (or the plain z when positives are untransformed).
                let qh: UnsafePointer<Float> = ftPositive ? UnsafePointer(wp + oQh) : qp
                let kh: UnsafePointer<Float> = ftPositive ? UnsafePointer(wp + oKh) : kp
                if ftPositive {
                    for i in rows {
                        transformPositiveRow(i, D: D, query: qp + i * D, key: kp + i * D, lambdas: lp.base,
                                             granularity: granularity, renormalize: renormPositive,
                                             queryOut: wp + oQh + i * D, keyOut: wp + oKh + i * D,
                                             queryNorm: wp + oNormQ + i, keyNorm: wp + oNormK + i)
                        posFT[i] = dotProduct(qh + i * D, kh + i * D, D)
                    }
                } else {
                    for i in rows { posFT[i] = pos[i] }
                }

                // Scores in the logits, m×N: ẑ_q against N̂.
                let scores: UnsafeMutablePointer<Float> = anyFT ? ft.base : neg.base
                if anyFT {
                    let firstBlock = ftNegative && !union ? UnsafePointer(wp + oMix) : np
                    if ftPositive || ftNegative && !union {
                        sgemm(.none, .transposed, m: m, n: K, k: D, a: qh + r0 * D, lda: D, b: firstBlock, ldb: D,
                              c: scores + r0 * N, ldc: N)
                    } else {   // union with plain queries: the first K columns are the raw scores
                        for i in rows { (scores + i * N).update(from: neg.base + i * K, count: K) }
                    }
                    if union {
                        sgemm(.none, .transposed, m: m, n: K, k: D, a: qh + r0 * D, lda: D, b: wp + oMix, ldb: D,
                              c: scores + r0 * N + K, ldc: N)
                    }
                }

                // Softmax over [posFT, scores]/τ; dScores = (p − onehot)/(B·τ) into the arena.
                let dScores = wp + oGrad, dPos = wp + oGradPos
                let invTau = 1 / tau
                let scale = 1 / (Double(B) * Double(tau))        // d loss / d score = (p − onehot) / (B·τ)
                var lossSum = 0.0, hits = 0
                for i in rows {
                    let p0 = posFT[i]
                    let (term, hit, positiveGradient) = softmaxCrossEntropyRow(
                        negatives: scores + i * N, count: N, positive: p0, inverseTemperature: invTau,
                        scale: scale, gradient: dScores + i * N)
                    lossSum += term
                    if hit { hits += 1 }
                    dPos[i] = positiveGradient
                }
                lossOut.base[c] = lossSum
                hitOut.base[c] = hits

                // Backward: dẑ_q = dScores·N̂ + dPos ⊙ ẑ_k  (m×D).
                let dqh = dq.base + r0 * D
                if union {
                    sgemm(.none, .none, m: m, n: D, k: K, a: dScores + r0 * N, lda: N, b: np, ldb: D,
                          c: dqh, ldc: D)
                    sgemm(.none, .none, m: m, n: D, k: K, a: dScores + r0 * N + K, lda: N, b: wp + oMix, ldb: D,
                          beta: 1, c: dqh, ldc: D)
                } else {
                    let block = ftNegative ? UnsafePointer(wp + oMix) : np
                    sgemm(.none, .none, m: m, n: D, k: K, a: dScores + r0 * N, lda: N, b: block, ldb: D,
                          c: dqh, ldc: D)
                }
                for i in rows {
                    let g = dPos[i], row = dq.base + i * D, khRow = kh + i * D
                    for d in 0..<D { row[d] += g * khRow[d] }
                }
                // Through the positive transformation: ẑ_q and ẑ_k both depend on z_q.
                if ftPositive {
                    for i in rows {
                        positiveRowBackward(i, D: D, dQueryHat: dq.base + i * D, dPositive: dPos[i],
                                            queryHat: qh + i * D, keyHat: kh + i * D,
                                            queryNorm: wp[oNormQ + i], keyNorm: wp[oNormK + i],
                                            renormalize: renormPositive, lambdas: lp.base,
                                            granularity: granularity)
                    }
                }
            }
        }}}}}}}}}}}}

        var loss = 0.0, hits = 0
        for c in 0..<chunks { loss += lossPartials[c]; hits += hitPartials[c] }
        let positive = Array(work[(oPos)..<(oPos + B)])
        let transformedPositive = ftPositive ? Array(work[(oPosFT)..<(oPosFT + B)]) : positive
        let scores = StepScores(batchSize: B, queueSize: K, transformedNegativeCount: N,
                                positive: positive, negative: negative,
                                transformedPositive: transformedPositive,
                                transformedNegative: anyFT ? transformed : negative, draws: draws)
        negativeBuffer = negative
        transformedNegativeBuffer = transformed
        arena = work
        return InfoNCEResult(loss: loss / Double(B), accuracy: Double(hits) / Double(B),
                             queryGradient: gradient, scores: scores)
    }

    /// The mixed negatives n̂ (K×D) for `queue` and `draws` (the queue itself when negatives are untransformed).
    /// Allocates; for samples and tests, not for the hot loop.
    public static func mixedNegatives(queue: KeyQueue, draws: FeatureTransformDraws) -> [Float] {
        guard draws.transformsNegatives else { return queue.keys }
        var out = [Float](repeating: 0, count: queue.keys.count)
        let renorm = draws.renormalize == .negative || draws.renormalize == .both
        queue.keys.withUnsafeBufferPointer { n in
            draws.negativePermutation.withUnsafeBufferPointer { p in
                draws.negativeLambdas.withUnsafeBufferPointer { l in
                    out.withUnsafeMutableBufferPointer { o in
                        mixNegatives(rows: 0..<queue.capacity, D: queue.dimension, queue: n.baseAddress!,
                                     permutation: p.baseAddress!, lambdas: l.baseAddress!,
                                     granularity: draws.granularity, renormalize: renorm, output: o.baseAddress!)
                    }
                }
            }
        }
        return out
    }

    /// ẑ_q and ẑ_k (B×D each) for `queries`, `keys` and `draws` (the inputs when positives are untransformed).
    /// Allocates; for samples and tests, not for the hot loop.
    public static func transformedPositives(queries: Tensor, keys: Tensor,
                                            draws: FeatureTransformDraws) -> (queries: Tensor, keys: Tensor) {
        guard draws.transformsPositives else { return (queries, keys) }
        let B = queries.batch, D = queries.itemSize
        var qh = Tensor(shape: [B, D]), kh = Tensor(shape: [B, D])
        var norms = [Float](repeating: 0, count: 2)
        let renorm = draws.renormalize == .positive || draws.renormalize == .both
        queries.storage.withUnsafeBufferPointer { q in
            keys.storage.withUnsafeBufferPointer { k in
                draws.positiveLambdas.withUnsafeBufferPointer { l in
                    qh.storage.withUnsafeMutableBufferPointer { qo in
                        kh.storage.withUnsafeMutableBufferPointer { ko in
                            norms.withUnsafeMutableBufferPointer { nb in
                                for i in 0..<B {
                                    transformPositiveRow(i, D: D, query: q.baseAddress! + i * D, key: k.baseAddress! + i * D,
                                                         lambdas: l.baseAddress!, granularity: draws.granularity,
                                                         renormalize: renorm, queryOut: qo.baseAddress! + i * D,
                                                         keyOut: ko.baseAddress! + i * D,
                                                         queryNorm: nb.baseAddress!, keyNorm: nb.baseAddress! + 1)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (qh, kh)
    }
}
