// Batch-normalisation kernels on channels-last data (optionally fused with the following ReLU), and global
// average pooling. The data is an R×C matrix (R = B·L rows; a 2-d image batch B×H×W×C or a 1-d batch B×C),
// so every loop runs along the channels and vectorises.
//
// Determinism: each split-BN group's rows are cut into a fixed number of parts (independent of threads); every
// part sums its rows in Double in row order; the part sums are added in part order.
// Memory traffic is what costs here, so forward reads x twice (statistics, then normalise) and writes only y;
// the cache is x itself (the convolution's output, which exists anyway), and backward recomputes x̂ and the
// ReLU mask with the same expressions as forward (`batchNormNormalize`, `batchNormAffine`): identical bits.
// Deliberately not here: the running-statistics update (BatchNorm.swift does it from the returned batch stats).
//
// Legend: R = rows (B·L), C = channels, L = positions per sample (H·W; 1 for 1-d), G = groups (split-BN),
// x̂ = normalised input, γ/β = affine parameters, g = upstream gradient after the ReLU mask.

/// x̂ = (x − mean)·inv, shared by forward and backward so the recomputed x̂ has the same bits.
@inline(__always)
func batchNormNormalize(_ x: Float, _ mean: Float, _ inverseStd: Float) -> Float {
    (x - mean) * inverseStd
}

/// The affine step of batch norm, shared by forward and the backward mask recomputation.
@inline(__always)
func batchNormAffine(_ normalized: Float, _ gamma: Float, _ beta: Float) -> Float {
    normalized * gamma + beta
}

/// Parts the rows of each group are cut into: about `ComputeContext.batchParts` work items in total.
@inline(__always)
func normalizationParts(groups G: Int, rowsPerGroup: Int) -> Int {
    max(1, min(rowsPerGroup, ComputeContext.batchParts / G))
}

/// Runs `rowSum(rows, partial)` for every (group, part) in parallel, each into its own zeroed Double buffer of
/// `width` values, then adds the parts of each group in order. Returns G×width sums.
func groupedColumnSums(groups G: Int, rowsPerGroup: Int, width: Int, threads: Int,
                       _ rowSum: @Sendable (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
    let parts = normalizationParts(groups: G, rowsPerGroup: rowsPerGroup)
    let partials = UnsafeMutablePointer<Double>.allocate(capacity: G * parts * width)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: G * parts * width)
    let pp = SendablePointer(partials)
    parallelFor(G * parts, threads: threads) { item in
        let group = item / parts, part = item % parts
        let local = partRange(part, of: parts, count: rowsPerGroup)
        rowSum((group * rowsPerGroup + local.lowerBound)..<(group * rowsPerGroup + local.upperBound),
               pp.base + item * width)
    }
    var sums = [Double](repeating: 0, count: G * width)
    for group in 0..<G {
        for part in 0..<parts {
            let src = partials + (group * parts + part) * width
            for j in 0..<width { sums[group * width + j] += src[j] }
        }
    }
    return sums
}

/// Rows per Float block in `blockedColumnSums`: Float sums of at most this many terms, then Double.
let columnSumBlock = 16

/// Two column sums over `rows` into acc[0..<C] and acc[C..<2C] (Double): `accumulate(r, s, t)` adds row r's
/// terms into Float block sums s and t, which are added to acc every `columnSumBlock` rows. Float inside a short
/// block runs twice as wide as Double and loses nothing that matters; the order is fixed by `rows`.
@inline(__always)
func blockedColumnSums(rows: Range<Int>, channels C: Int, into acc: UnsafeMutablePointer<Double>,
                       _ accumulate: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
    let block = UnsafeMutablePointer<Float>.allocate(capacity: 2 * C)
    defer { block.deallocate() }
    var r = rows.lowerBound
    while r < rows.upperBound {
        block.initialize(repeating: 0, count: 2 * C)
        let end = min(rows.upperBound, r + columnSumBlock)
        for row in r..<end { accumulate(row, block, block + C) }
        for j in 0..<(2 * C) { acc[j] += Double(block[j]) }
        r = end
    }
}

/// Train-mode forward: statistics per (group, channel) over the group's rows, in one pass of shifted sums
/// Σ(x − s) and Σ(x − s)² (Float blocks of 16 rows, then Double), where the shift s is the group's first row (a sample value, so the
/// variance formula does not cancel). Returns y (ReLU applied when `relu`), the per-(group, channel) means and
/// biased variances (Double, G×C), and the Float mean and 1/√(var+eps) used for x̂ (G×C).
func batchNormTrainForward(_ x: [Float], rows R: Int, channels C: Int, groups G: Int,
                           gamma: [Float], beta: [Float], epsilon: Float, relu: Bool, threads: Int)
    -> (y: [Float], mean: [Double], variance: [Double], meanUsed: [Float], inverseStd: [Float]) {
    let rowsPerGroup = R / G, count = Double(rowsPerGroup)
    var mean = [Double](repeating: 0, count: G * C), variance = mean
    var y: [Float] = []
    var inverseStd = [Float](repeating: 0, count: G * C), meanF = inverseStd
    x.withUnsafeBufferPointer { xb in
        let xp = SendablePointer(xb.baseAddress!)
        let sums = groupedColumnSums(groups: G, rowsPerGroup: rowsPerGroup, width: 2 * C, threads: threads) { rows, acc in
            let shift = xp.base + (rows.lowerBound / rowsPerGroup) * rowsPerGroup * C
            blockedColumnSums(rows: rows, channels: C, into: acc) { r, s, s2 in
                let row = xp.base + r * C
                for c in 0..<C {
                    let d = row[c] - shift[c]
                    s[c] += d; s2[c] += d * d
                }
            }
        }
        for group in 0..<G {
            for c in 0..<C {
                let shift = Double(x[group * rowsPerGroup * C + c])
                let m = sums[group * 2 * C + c] / count
                let i = group * C + c
                mean[i] = shift + m
                variance[i] = max(0, sums[group * 2 * C + C + c] / count - m * m)
                inverseStd[i] = Float(1 / (variance[i] + Double(epsilon)).squareRoot())
                meanF[i] = Float(mean[i])
            }
        }
        y = normalizeRows(xp, rows: R, channels: C, rowsPerGroup: rowsPerGroup, mean: meanF,
                          inverseStd: inverseStd, gamma: gamma, beta: beta, relu: relu, threads: threads)
    }
    return (y, mean, variance, meanF, inverseStd)
}

/// Eval-mode forward with the running statistics. Returns y and 1/√(runningVar+eps) per channel.
func batchNormEvalForward(_ x: [Float], rows R: Int, channels C: Int,
                          runningMean: [Float], runningVariance: [Float],
                          gamma: [Float], beta: [Float], epsilon: Float, relu: Bool, threads: Int)
    -> (y: [Float], inverseStd: [Float]) {
    let inverseStd = (0..<C).map { Float(1 / (Double(runningVariance[$0]) + Double(epsilon)).squareRoot()) }
    let y = x.withUnsafeBufferPointer { xb in
        normalizeRows(SendablePointer(xb.baseAddress!), rows: R, channels: C, rowsPerGroup: R, mean: runningMean,
                      inverseStd: inverseStd, gamma: gamma, beta: beta, relu: relu, threads: threads)
    }
    return (y, inverseStd)
}

/// y = [max](x̂·γ + β, 0) with x̂ = (x − mean)·inv per (group, channel) (G×C, G = R/rowsPerGroup).
func normalizeRows(_ xp: SendablePointer<Float>, rows R: Int, channels C: Int, rowsPerGroup: Int,
                   mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float], relu: Bool,
                   threads: Int) -> [Float] {
    let parts = min(ComputeContext.batchParts, R)
    return [Float](unsafeUninitializedCapacity: R * C) { yb, initialised in
        let yp = SendablePointer(yb.baseAddress!)
        mean.withUnsafeBufferPointer { mb in
        inverseStd.withUnsafeBufferPointer { ib in
        gamma.withUnsafeBufferPointer { gb in
        beta.withUnsafeBufferPointer { bb in
            let mp = SendablePointer(mb.baseAddress!), ip = SendablePointer(ib.baseAddress!)
            let gp = SendablePointer(gb.baseAddress!), bp = SendablePointer(bb.baseAddress!)
            parallelFor(parts, threads: threads) { part in
                for r in partRange(part, of: parts, count: R) {
                    let group = r / rowsPerGroup
                    let mu = mp.base + group * C, inv = ip.base + group * C
                    let xr = xp.base + r * C, yr = yp.base + r * C
                    if relu {
                        for c in 0..<C {
                            let h = batchNormNormalize(xr[c], mu[c], inv[c])
                            yr[c] = max(batchNormAffine(h, gp.base[c], bp.base[c]), 0)
                        }
                    } else {
                        for c in 0..<C {
                            yr[c] = batchNormAffine(batchNormNormalize(xr[c], mu[c], inv[c]), gp.base[c], bp.base[c])
                        }
                    }
                }
            }
        }}}}
        initialised = R * C
    }
}

/// Backward of batch norm (+ fused ReLU when `relu`) from the forward input x and the mean / 1/σ it used
/// (G×C in train mode, C in eval mode with G = 1). x̂ is recomputed exactly as forward computed it.
/// Train: dx = γ·inv·(g − mean(g) − x̂·mean(g·x̂)) per (group, channel); eval: dx = γ·inv·g.
/// dγ = Σ g·x̂, dβ = Σ g over the whole batch (Double, group order).
func batchNormBackward(_ dy: [Float], input x: [Float], rows R: Int, channels C: Int, groups G: Int,
                       mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float],
                       relu: Bool, train: Bool, threads: Int)
    -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
    let rowsPerGroup = R / G, count = Double(rowsPerGroup)
    var sums: [Double] = []
    let dx = [Float](unsafeUninitializedCapacity: R * C) { xb, initialised in
        let dxp = SendablePointer(xb.baseAddress!)
        dy.withUnsafeBufferPointer { db in
        x.withUnsafeBufferPointer { inb in
        mean.withUnsafeBufferPointer { mb in
        inverseStd.withUnsafeBufferPointer { ib in
        gamma.withUnsafeBufferPointer { gb in
        beta.withUnsafeBufferPointer { bb in
            let dyp = SendablePointer(db.baseAddress!), xp = SendablePointer(inb.baseAddress!)
            let mp = SendablePointer(mb.baseAddress!), ip = SendablePointer(ib.baseAddress!)
            let gp = SendablePointer(gb.baseAddress!), bp = SendablePointer(bb.baseAddress!)
            // Pass 1: per-group Σg and Σg·x̂ (2C values per group), g = dy masked by the ReLU.
            sums = groupedColumnSums(groups: G, rowsPerGroup: rowsPerGroup, width: 2 * C, threads: threads) { rows, acc in
                let group = rows.lowerBound / rowsPerGroup
                let mu = mp.base + group * C, inv = ip.base + group * C
                blockedColumnSums(rows: rows, channels: C, into: acc) { r, s, sh in
                    let dr = dyp.base + r * C, xr = xp.base + r * C
                    if relu {
                        for c in 0..<C {
                            let h = batchNormNormalize(xr[c], mu[c], inv[c])
                            let g = batchNormAffine(h, gp.base[c], bp.base[c]) > 0 ? dr[c] : 0
                            s[c] += g; sh[c] += g * h
                        }
                    } else {
                        for c in 0..<C {
                            let h = batchNormNormalize(xr[c], mu[c], inv[c])
                            s[c] += dr[c]; sh[c] += dr[c] * h
                        }
                    }
                }
            }
            // Pass 2: dx = scale·(g − mean(g) − x̂·mean(g·x̂)).
            var scale = [Float](repeating: 0, count: G * C)
            var meanG = scale, meanGH = scale
            for group in 0..<G {
                for c in 0..<C {
                    scale[group * C + c] = gamma[c] * inverseStd[group * C + c]
                    if train {
                        meanG[group * C + c] = Float(sums[group * 2 * C + c] / count)
                        meanGH[group * C + c] = Float(sums[group * 2 * C + C + c] / count)
                    }
                }
            }
            let parts = min(ComputeContext.batchParts, R)
            scale.withUnsafeBufferPointer { sb in
            meanG.withUnsafeBufferPointer { mgb in
            meanGH.withUnsafeBufferPointer { mhb in
                let sp = SendablePointer(sb.baseAddress!), mgp = SendablePointer(mgb.baseAddress!)
                let mhp = SendablePointer(mhb.baseAddress!)
                parallelFor(parts, threads: threads) { part in
                    for r in partRange(part, of: parts, count: R) {
                        let group = r / rowsPerGroup
                        let mu = mp.base + group * C, inv = ip.base + group * C
                        let s = sp.base + group * C, m = mgp.base + group * C, mh = mhp.base + group * C
                        let dr = dyp.base + r * C, xr = xp.base + r * C, out = dxp.base + r * C
                        if relu {
                            for c in 0..<C {
                                let h = batchNormNormalize(xr[c], mu[c], inv[c])
                                let g = batchNormAffine(h, gp.base[c], bp.base[c]) > 0 ? dr[c] : 0
                                out[c] = s[c] * (g - m[c] - h * mh[c])
                            }
                        } else {
                            for c in 0..<C {
                                let h = batchNormNormalize(xr[c], mu[c], inv[c])
                                out[c] = s[c] * (dr[c] - m[c] - h * mh[c])
                            }
                        }
                    }
                }
            }}}
        }}}}}}
        initialised = R * C
    }
    var dGamma = [Float](repeating: 0, count: C), dBeta = dGamma
    for c in 0..<C {
        var sg = 0.0, sgh = 0.0
        for group in 0..<G { sg += sums[group * 2 * C + c]; sgh += sums[group * 2 * C + C + c] }
        dBeta[c] = Float(sg); dGamma[c] = Float(sgh)
    }
    return (dx, dGamma, dBeta)
}

/// y = max(x, 0).
func reluForward(_ x: [Float]) -> [Float] {
    x.map { max($0, 0) }
}

/// dx = dy where the forward output was positive, else 0.
func reluBackward(_ dy: [Float], output y: [Float]) -> [Float] {
    [Float](unsafeUninitializedCapacity: dy.count) { buffer, initialised in
        for i in 0..<dy.count { buffer[i] = y[i] > 0 ? dy[i] : 0 }
        initialised = dy.count
    }
}

/// h[B×C] = mean over the L positions of channels-last x[B×L×C] (Double sums in position order).
func globalAveragePoolForward(_ x: [Float], batch B: Int, spatial L: Int, channels C: Int) -> [Float] {
    var h = [Float](repeating: 0, count: B * C)
    var acc = [Double](repeating: 0, count: C)
    x.withUnsafeBufferPointer { xb in
        for b in 0..<B {
            for c in 0..<C { acc[c] = 0 }
            for l in 0..<L {
                let row = xb.baseAddress! + (b * L + l) * C
                for c in 0..<C { acc[c] += Double(row[c]) }
            }
            for c in 0..<C { h[b * C + c] = Float(acc[c] / Double(L)) }
        }
    }
    return h
}

/// dx[B×L×C] = dh[B×C] / L broadcast over the positions.
func globalAveragePoolBackward(_ dh: [Float], batch B: Int, spatial L: Int, channels C: Int) -> [Float] {
    let scale = 1 / Float(L)
    return [Float](unsafeUninitializedCapacity: B * L * C) { xb, initialised in
        for b in 0..<B {
            for l in 0..<L {
                for c in 0..<C { xb[(b * L + l) * C + c] = dh[b * C + c] * scale }
            }
        }
        initialised = B * L * C
    }
}
