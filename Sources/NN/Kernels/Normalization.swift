// Batch-normalisation kernels (optionally fused with the ReLU that follows), ReLU, and global average pooling.
// Work is split over channels: each channel's sums run in a fixed order on one thread, in Double, so the bytes
// never depend on the thread count. The fused ReLU's mask is recomputed in backward from x̂, γ, β with the same
// expression as forward (`batchNormAffine`), so only x̂ is cached.
// Deliberately not here: the running-statistics update (BatchNorm.swift does it from the returned batch stats).
//
// Legend: B = batch, C = channels, L = spatial positions per channel (H·W; 1 for 1-d), G = groups (split-BN),
// n = images per group, x̂ = normalised input, γ/β = affine parameters.

/// The affine step of batch norm, shared by forward and the backward mask recomputation.
@inline(__always)
func batchNormAffine(_ normalized: Float, _ gamma: Float, _ beta: Float) -> Float {
    normalized * gamma + beta
}

/// Train-mode forward: statistics per (group, channel) over n·L values. Returns y (ReLU applied when `relu`),
/// x̂, the per-(group, channel) means and biased variances (Double, G×C) and 1/√(var+eps) (Float, G×C).
func batchNormTrainForward(_ x: [Float], batch B: Int, channels C: Int, spatial L: Int, groups G: Int,
                           gamma: [Float], beta: [Float], epsilon: Float, relu: Bool, threads: Int)
    -> (y: [Float], normalized: [Float], mean: [Double], variance: [Double], inverseStd: [Float]) {
    let n = B / G
    var y = [Float](repeating: 0, count: x.count), xh = [Float](repeating: 0, count: x.count)
    var mean = [Double](repeating: 0, count: G * C), variance = [Double](repeating: 0, count: G * C)
    var inverseStd = [Float](repeating: 0, count: G * C)
    x.withUnsafeBufferPointer { xb in
    y.withUnsafeMutableBufferPointer { yb in
    xh.withUnsafeMutableBufferPointer { hb in
    mean.withUnsafeMutableBufferPointer { mb in
    variance.withUnsafeMutableBufferPointer { vb in
    inverseStd.withUnsafeMutableBufferPointer { ib in
    gamma.withUnsafeBufferPointer { gb in
    beta.withUnsafeBufferPointer { bb in
        let xp = SendablePointer(xb.baseAddress!), yp = SendablePointer(yb.baseAddress!)
        let hp = SendablePointer(hb.baseAddress!), mp = SendablePointer(mb.baseAddress!)
        let vp = SendablePointer(vb.baseAddress!), ip = SendablePointer(ib.baseAddress!)
        let gp = SendablePointer(gb.baseAddress!), bp = SendablePointer(bb.baseAddress!)
        parallelFor(C, threads: threads) { c in
            let g0 = gp.base[c], b0 = bp.base[c]
            for group in 0..<G {
                var sum = 0.0, sumSquares = 0.0
                for i in (group * n)..<((group + 1) * n) {
                    let row = xp.base + (i * C + c) * L
                    var s = 0.0, s2 = 0.0
                    for l in 0..<L { let v = Double(row[l]); s += v; s2 += v * v }
                    sum += s; sumSquares += s2
                }
                let count = Double(n * L)
                let mu = sum / count
                let v = max(0, sumSquares / count - mu * mu)
                let inv = Float(1 / (v + Double(epsilon)).squareRoot())
                mp.base[group * C + c] = mu; vp.base[group * C + c] = v; ip.base[group * C + c] = inv
                let muF = Float(mu)
                for i in (group * n)..<((group + 1) * n) {
                    let offset = (i * C + c) * L
                    let xr = xp.base + offset, hr = hp.base + offset, yr = yp.base + offset
                    for l in 0..<L {
                        let h = (xr[l] - muF) * inv
                        hr[l] = h
                        let o = batchNormAffine(h, g0, b0)
                        yr[l] = relu ? max(o, 0) : o
                    }
                }
            }
        }
    }}}}}}}}
    return (y, xh, mean, variance, inverseStd)
}

/// Eval-mode forward with the running statistics. Returns y, x̂ and 1/√(runningVar+eps) per channel.
func batchNormEvalForward(_ x: [Float], batch B: Int, channels C: Int, spatial L: Int,
                          runningMean: [Float], runningVariance: [Float],
                          gamma: [Float], beta: [Float], epsilon: Float, relu: Bool, threads: Int)
    -> (y: [Float], normalized: [Float], inverseStd: [Float]) {
    let inverseStd = (0..<C).map { Float(1 / (Double(runningVariance[$0]) + Double(epsilon)).squareRoot()) }
    var y = [Float](repeating: 0, count: x.count), xh = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { xb in
    y.withUnsafeMutableBufferPointer { yb in
    xh.withUnsafeMutableBufferPointer { hb in
        let xp = SendablePointer(xb.baseAddress!), yp = SendablePointer(yb.baseAddress!)
        let hp = SendablePointer(hb.baseAddress!)
        parallelFor(C, threads: threads) { c in
            let g0 = gamma[c], b0 = beta[c], mu = runningMean[c], inv = inverseStd[c]
            for i in 0..<B {
                let offset = (i * C + c) * L
                let xr = xp.base + offset, hr = hp.base + offset, yr = yp.base + offset
                for l in 0..<L {
                    let h = (xr[l] - mu) * inv
                    hr[l] = h
                    let o = batchNormAffine(h, g0, b0)
                    yr[l] = relu ? max(o, 0) : o
                }
            }
        }
    }}}
    return (y, xh, inverseStd)
}

/// Backward of batch norm (+ fused ReLU when `relu`). `inverseStd` is G×C (train) or C (eval, G = 1).
/// Train: dx = γ·inv·(dy − mean(dy) − x̂·mean(dy·x̂)) per (group, channel); eval: dx = γ·inv·dy.
/// dγ = Σ dy·x̂, dβ = Σ dy over the whole batch (Double sums, group order).
func batchNormBackward(_ dy: [Float], normalized xh: [Float], batch B: Int, channels C: Int, spatial L: Int,
                       groups G: Int, inverseStd: [Float], gamma: [Float], beta: [Float],
                       relu: Bool, train: Bool, threads: Int)
    -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
    let n = B / G
    var dx = [Float](repeating: 0, count: dy.count)
    var dGamma = [Float](repeating: 0, count: C), dBeta = [Float](repeating: 0, count: C)
    dy.withUnsafeBufferPointer { db in
    xh.withUnsafeBufferPointer { hb in
    dx.withUnsafeMutableBufferPointer { xb in
    dGamma.withUnsafeMutableBufferPointer { dgb in
    dBeta.withUnsafeMutableBufferPointer { dbb in
        let dyp = SendablePointer(db.baseAddress!), hp = SendablePointer(hb.baseAddress!)
        let dxp = SendablePointer(xb.baseAddress!)
        let dgp = SendablePointer(dgb.baseAddress!), dbp = SendablePointer(dbb.baseAddress!)
        parallelFor(C, threads: threads) { c in
            let g0 = gamma[c], b0 = beta[c]
            var totalDy = 0.0, totalDyX = 0.0
            for group in 0..<G {
                let inv = inverseStd[group * C + c]
                // Pass 1: masked upstream gradient into dx (as scratch) and its sums.
                var s = 0.0, sx = 0.0
                for i in (group * n)..<((group + 1) * n) {
                    let offset = (i * C + c) * L
                    let dr = dyp.base + offset, hr = hp.base + offset, xr = dxp.base + offset
                    for l in 0..<L {
                        let h = hr[l]
                        let g = relu && batchNormAffine(h, g0, b0) <= 0 ? 0 : dr[l]
                        xr[l] = g
                        s += Double(g); sx += Double(g) * Double(h)
                    }
                }
                totalDy += s; totalDyX += sx
                // Pass 2: input gradient.
                let scale = g0 * inv
                if train {
                    let count = Double(n * L)
                    let meanDy = Float(s / count), meanDyX = Float(sx / count)
                    for i in (group * n)..<((group + 1) * n) {
                        let offset = (i * C + c) * L
                        let hr = hp.base + offset, xr = dxp.base + offset
                        for l in 0..<L { xr[l] = scale * (xr[l] - meanDy - hr[l] * meanDyX) }
                    }
                } else {
                    for i in (group * n)..<((group + 1) * n) {
                        let xr = dxp.base + (i * C + c) * L
                        for l in 0..<L { xr[l] = scale * xr[l] }
                    }
                }
            }
            dgp.base[c] = Float(totalDyX); dbp.base[c] = Float(totalDy)
        }
    }}}}}
    return (dx, dGamma, dBeta)
}

/// y = max(x, 0).
func reluForward(_ x: [Float]) -> [Float] {
    x.map { max($0, 0) }
}

/// dx = dy where the forward output was positive, else 0.
func reluBackward(_ dy: [Float], output y: [Float]) -> [Float] {
    var dx = [Float](repeating: 0, count: dy.count)
    for i in 0..<dy.count where y[i] > 0 { dx[i] = dy[i] }
    return dx
}

/// h[B×C] = mean over the L positions of x[B×C×L] (Double sums).
func globalAveragePoolForward(_ x: [Float], rows: Int, spatial L: Int) -> [Float] {
    var h = [Float](repeating: 0, count: rows)
    x.withUnsafeBufferPointer { xb in
        for r in 0..<rows {
            var s = 0.0
            for l in 0..<L { s += Double(xb[r * L + l]) }
            h[r] = Float(s / Double(L))
        }
    }
    return h
}

/// dx[B×C×L] = dh[B×C] / L broadcast over the positions.
func globalAveragePoolBackward(_ dh: [Float], rows: Int, spatial L: Int) -> [Float] {
    var dx = [Float](repeating: 0, count: rows * L)
    let scale = 1 / Float(L)
    dx.withUnsafeMutableBufferPointer { xb in
        for r in 0..<rows {
            let v = dh[r] * scale
            for l in 0..<L { xb[r * L + l] = v }
        }
    }
    return dx
}
