// InfoNCE+Kernels: the pointer-level row kernels of the InfoNCE + FT block: dot products, the positive
// transformation and its backward, negative mixing, and the fused softmax cross-entropy of one row with a
// vectorised exp. Each kernel works on one row (or a range of queue rows), so callers can split rows over
// threads without changing any result.
// Legend: D = dimension, N = negatives in one row; λ layout per granularity: batch [0], sample [row],
// element [row·D + d].
// Deliberately not here: sgemm calls and the arena layout (InfoNCE.swift).
#if canImport(Glibc)
import Glibc
#endif

@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s: Float = 0
    for i in 0..<n { s += a[i] * b[i] }
    return s
}

/// ẑ_q = λ q + (1−λ) k, ẑ_k = λ k + (1−λ) q for row i, optionally scaled to unit length; stores the norms
/// before scaling (1 when not renormalised) for the backward.
@inline(__always)
func transformPositiveRow(_ i: Int, D: Int, query: UnsafePointer<Float>, key: UnsafePointer<Float>,
                          lambdas: UnsafePointer<Float>, granularity: FeatureTransformOptions.Granularity,
                          renormalize: Bool, queryOut: UnsafeMutablePointer<Float>, keyOut: UnsafeMutablePointer<Float>,
                          queryNorm: UnsafeMutablePointer<Float>, keyNorm: UnsafeMutablePointer<Float>) {
    if granularity == .element {
        let l = lambdas + i * D
        for d in 0..<D {
            queryOut[d] = l[d] * query[d] + (1 - l[d]) * key[d]
            keyOut[d] = l[d] * key[d] + (1 - l[d]) * query[d]
        }
    } else {
        let l = granularity == .batch ? lambdas[0] : lambdas[i]
        for d in 0..<D {
            queryOut[d] = l * query[d] + (1 - l) * key[d]
            keyOut[d] = l * key[d] + (1 - l) * query[d]
        }
    }
    if renormalize {
        let nq = max(dotProduct(queryOut, queryOut, D).squareRoot(), 1e-12)
        let nk = max(dotProduct(keyOut, keyOut, D).squareRoot(), 1e-12)
        let iq = 1 / nq, ik = 1 / nk
        for d in 0..<D { queryOut[d] *= iq; keyOut[d] *= ik }
        queryNorm.pointee = nq
        keyNorm.pointee = nk
    } else {
        queryNorm.pointee = 1
        keyNorm.pointee = 1
    }
}

/// Backward of `transformPositiveRow` for row i: on entry `dQueryHat` holds dL/dẑ_q (complete); dL/dẑ_k is
/// dPositive·ẑ_q (ẑ_k only enters the positive score). On exit `dQueryHat` holds dL/dz_q.
@inline(__always)
func positiveRowBackward(_ i: Int, D: Int, dQueryHat: UnsafeMutablePointer<Float>, dPositive: Float,
                         queryHat: UnsafePointer<Float>, keyHat: UnsafePointer<Float>,
                         queryNorm: Float, keyNorm: Float, renormalize: Bool,
                         lambdas: UnsafePointer<Float>, granularity: FeatureTransformOptions.Granularity) {
    // Through the renormalisation y = x/|x|: dx = (dy − y (y·dy)) / |x|.
    var qDot: Float = 0, kDot: Float = 0
    if renormalize {
        qDot = dotProduct(queryHat, UnsafePointer(dQueryHat), D)
        kDot = dPositive * dotProduct(keyHat, queryHat, D)          // y_k · dy_k with dy_k = dPositive·ẑ_q
    }
    let iq = 1 / queryNorm, ik = 1 / keyNorm
    let lBase: UnsafePointer<Float> = granularity == .element ? lambdas + i * D : lambdas + (granularity == .batch ? 0 : i)
    let lStride = granularity == .element ? 1 : 0
    for d in 0..<D {
        var dqx = dQueryHat[d], dkx = dPositive * queryHat[d]
        if renormalize {
            dqx = (dqx - queryHat[d] * qDot) * iq
            dkx = (dkx - keyHat[d] * kDot) * ik
        }
        let l = lBase[d * lStride]
        dQueryHat[d] = l * dqx + (1 - l) * dkx
    }
}

/// n̂_j = λ n_j + (1−λ) n_π(j) for the queue rows in `rows`, optionally scaled to unit length.
@inline(__always)
func mixNegatives(rows: Range<Int>, D: Int, queue: UnsafePointer<Float>, permutation: UnsafePointer<Int>,
                  lambdas: UnsafePointer<Float>, granularity: FeatureTransformOptions.Granularity,
                  renormalize: Bool, output: UnsafeMutablePointer<Float>) {
    for j in rows {
        let a = queue + j * D, b = queue + permutation[j] * D, o = output + j * D
        if granularity == .element {
            let l = lambdas + j * D
            for d in 0..<D { o[d] = l[d] * a[d] + (1 - l[d]) * b[d] }
        } else {
            let l = granularity == .batch ? lambdas[0] : lambdas[j]
            for d in 0..<D { o[d] = l * a[d] + (1 - l) * b[d] }
        }
        if renormalize {
            let inv = 1 / max(dotProduct(UnsafePointer(o), UnsafePointer(o), D).squareRoot(), 1e-12)
            for d in 0..<D { o[d] *= inv }
        }
    }
}

/// e^x for each lane, for x ≤ 0 (the shifted logits): Cephes' expf polynomial on r = x − n·ln 2, scaled by 2^n
/// through the exponent bits. Relative error ≤ 1 ulp on [−87, 0] (measured 7.6e-8 against libm); inputs below −87.3 give
/// e^−87.3 ≈ 1e-38 instead of a denormal. NaN stays NaN.
@inline(__always)
func exponential(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Clamp below (written as "take the bound where it is larger": this shape compiles to one vmaxps).
    let bound = SIMD8<Float>(repeating: -87.33654)
    var v = x
    v.replace(with: bound, where: bound .> v)
    // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits (|n| ≤ 126 here),
    // which avoids Float→Int conversions (generic and slow on SIMD vectors).
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = v * 1.44269504088896341 + magic
    let n = shifted - magic
    let r = v - n * 0.693359375 + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// One row of the softmax cross-entropy over [positive, negatives]·(1/τ) with label 0 (the positive):
/// writes dLoss/dScore = scale·softmax into `gradient` for the N negatives and returns the row's loss term
/// (Double), whether the positive is at least every negative, and dLoss/dPositive = scale·(p₀ − 1).
/// `scale` is 1/(B·τ): the batch mean and the 1/τ of the logits.
@inline(__always)
func softmaxCrossEntropyRow(negatives row: UnsafePointer<Float>, count N: Int, positive p0: Float,
                            inverseTemperature invTau: Float, scale: Double,
                            gradient dRow: UnsafeMutablePointer<Float>) -> (loss: Double, hit: Bool, positiveGradient: Float) {
    let raw = UnsafeRawPointer(row), rawOut = UnsafeMutableRawPointer(dRow)
    let blocks = N / 8, tail = N - blocks * 8
    // Largest negative (vectorised; NaN lanes are skipped here and propagate through exp below).
    var lanesMax = SIMD8<Float>(repeating: -.infinity)
    for b in 0..<blocks {
        let v = raw.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<Float>.self)
        lanesMax.replace(with: v, where: v .> lanesMax)
    }
    var maxNeg = lanesMax.max()
    for j in (blocks * 8)..<N where row[j] > maxNeg { maxNeg = row[j] }
    let top = p0 > maxNeg ? p0 : maxNeg
    // e_j = exp((s_j − top)/τ) into the gradient row; the sum in Double lanes.
    let shift = SIMD8<Float>(repeating: top), inv = SIMD8<Float>(repeating: invTau)
    // The sum: Float lanes over 16 blocks (128 values in (0, 1]), then into a Double, so rounding stays ~1e-7.
    var sum = 0.0
    var block = 0
    while block < blocks {
        let end = min(blocks, block + 16)
        var lanes = SIMD8<Float>(repeating: 0)
        for b in block..<end {
            let e = exponential((raw.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<Float>.self) - shift) * inv)
            rawOut.storeBytes(of: e, toByteOffset: b * 32, as: SIMD8<Float>.self)
            lanes += e
        }
        for l in 0..<8 { sum += Double(lanes[l]) }
        block = end
    }
    if tail > 0 {
        var v = SIMD8<Float>(repeating: top)                     // padding lanes: exp(0) = 1, not summed
        for t in 0..<tail { v[t] = row[blocks * 8 + t] }
        let e = exponential((v - shift) * inv)
        for t in 0..<tail { dRow[blocks * 8 + t] = e[t]; sum += Double(e[t]) }
    }
    var head = SIMD8<Float>(repeating: 0)
    head[0] = (p0 - top) * invTau
    let e0 = Double(exponential(head)[0])
    sum += e0
    let rowScale = SIMD8<Float>(repeating: Float(scale / sum))
    for b in 0..<blocks {
        let e = rawOut.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<Float>.self)
        rawOut.storeBytes(of: e * rowScale, toByteOffset: b * 32, as: SIMD8<Float>.self)
    }
    for j in (blocks * 8)..<N { dRow[j] *= rowScale[0] }
    let loss = log(sum) - Double((p0 - top) * invTau)
    return (loss, p0 >= maxNeg, Float((e0 / sum - 1) * scale))
}
