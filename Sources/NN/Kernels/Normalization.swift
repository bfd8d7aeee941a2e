// Batch-normalisation kernels on channels-last data (optionally fused with the following ReLU), and global
// average pooling. The data is an R×C matrix (R = B·L rows; a 2-d image batch B×H×W×C or a 1-d batch B×C),
// so every loop runs along the channels and vectorises.
//
// Determinism: each split-BN group's rows are cut into a fixed number of parts (independent of threads); every
// part sums its rows in Double in row order; the part sums are added in part order.
// Memory traffic is what costs here. Statistics are one pass over x; y is `normalizeRows` (one read of x, one
// write) or, in the model's fused path, never written at all: the consumer normalises image by image as it reads
// (`normalizedSource` for the next convolution, `normalizedGlobalAveragePool`; Model+Fusion.swift). The cache is
// x itself (the convolution's output, which exists anyway), and backward recomputes x̂ and the ReLU mask with the
// same expressions as forward (`batchNormNormalize`, `batchNormAffine`): identical bits.
// Deliberately not here: the running-statistics update (BatchNorm.swift does it from the returned batch stats).
//
// Legend: R = rows (B·L), C = channels, L = positions per sample (H·W; 1 for 1-d), G = groups (split-BN),
// x̂ = normalised input, γ/β = affine parameters, g = upstream gradient after the ReLU mask.
import Parallel

/// x̂ = (x − mean)·inv, shared by forward and backward so the recomputed x̂ has the same bits (Float or SIMD
/// lanes: the same two IEEE operations per element, never fused).
@inline(__always)
func batchNormNormalize<V: FloatingPointArithmetic>(_ x: V, _ mean: V, _ inverseStd: V) -> V {
    (x - mean) * inverseStd
}

/// The affine step of batch norm, shared by forward and the backward mask recomputation.
@inline(__always)
func batchNormAffine<V: FloatingPointArithmetic>(_ normalized: V, _ gamma: V, _ beta: V) -> V {
    normalized * gamma + beta
}

/// The arithmetic shared by Float and SIMD16<Float> in the batch-norm expressions.
protocol FloatingPointArithmetic {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
}
extension Float: FloatingPointArithmetic {}
extension SIMD16: FloatingPointArithmetic where Scalar == Float {}

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

/// Two column sums over `rows` into acc[0..<C] and acc[C..<2C] (Double): `vector(r, c)` returns row r's two
/// terms for channels c..<c+16, `scalar(r, c)` those of one channel (the channels past the last multiple of 16).
/// Each block of `columnSumBlock` rows is summed in Float, in row order, in registers (a block sum kept in memory
/// is a store-to-load chain per row, several times slower), then added to acc. Float inside a short block runs
/// twice as wide as Double and loses nothing that matters; the order is fixed by `rows`.
@inline(__always)
func blockedColumnSums(rows: Range<Int>, channels C: Int, into acc: UnsafeMutablePointer<Double>,
                       vector: (_ row: Int, _ channel: Int) -> (SIMD16<Float>, SIMD16<Float>),
                       scalar: (_ row: Int, _ channel: Int) -> (Float, Float)) {
    var r = rows.lowerBound
    while r < rows.upperBound {
        let end = min(rows.upperBound, r + columnSumBlock)
        var c = 0
        while c + 16 <= C {
            var first = SIMD16<Float>(), second = first
            for row in r..<end {
                let (a, b) = vector(row, c)
                first += a; second += b
            }
            addToDoubles(acc + c, first); addToDoubles(acc + C + c, second)
            c += 16
        }
        while c < C {
            var first: Float = 0, second: Float = 0
            for row in r..<end {
                let (a, b) = scalar(row, c)
                first += a; second += b
            }
            acc[c] += Double(first); acc[C + c] += Double(second)
            c += 1
        }
        r = end
    }
}

/// acc[0..<16] += Double(v[j]) lane by lane: the same sums as the scalar loop, two conversions and two adds of 8
/// Doubles instead of 16 scalar load-add-store chains (the flush of every 16-row block of `blockedColumnSums`).
@inline(__always)
func addToDoubles(_ acc: UnsafeMutablePointer<Double>, _ v: SIMD16<Float>) {
    let raw = UnsafeMutableRawPointer(acc)
    let low = raw.loadUnaligned(as: SIMD8<Double>.self) + SIMD8<Double>(v.lowHalf)
    let high = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Double>.self) + SIMD8<Double>(v.highHalf)
    raw.storeBytes(of: low, as: SIMD8<Double>.self)
    raw.storeBytes(of: high, toByteOffset: 64, as: SIMD8<Double>.self)
}

/// 16 floats from p (unaligned).
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats at p (unaligned).
@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// ReLU's gradient mask with batch norm's recomputed output y: g = dy where y > 0, else 0 (also for NaN y).
@inline(__always)
func reluMasked(_ dy: SIMD16<Float>, output y: SIMD16<Float>) -> SIMD16<Float> {
    SIMD16<Float>(repeating: 0).replacing(with: dy, where: y .> 0)
}

/// Train-mode statistics per (group, channel) over the group's rows, in one pass of shifted sums Σ(x − s) and
/// Σ(x − s)² (Float blocks of 16 rows, then Double), where the shift s is the group's first row (a sample value, so
/// the variance formula does not cancel). Returns the per-(group, channel) means and biased variances (Double,
/// G×C), and the Float mean and 1/√(var+eps) used for x̂ (G×C). y is `normalizeRows` (or a fused consumer's).
func batchNormTrainStatistics(_ x: [Float], rows R: Int, channels C: Int, groups G: Int, epsilon: Float, threads: Int)
    -> (mean: [Double], variance: [Double], meanUsed: [Float], inverseStd: [Float]) {
    let rowsPerGroup = R / G, count = Double(rowsPerGroup)
    var mean = [Double](repeating: 0, count: G * C), variance = mean
    var inverseStd = [Float](repeating: 0, count: G * C), meanF = inverseStd
    x.withUnsafeBufferPointer { xb in
        let xp = SendablePointer(xb.baseAddress!)
        let sums = groupedColumnSums(groups: G, rowsPerGroup: rowsPerGroup, width: 2 * C, threads: threads) { rows, acc in
            let shift = xp.base + (rows.lowerBound / rowsPerGroup) * rowsPerGroup * C
            blockedColumnSums(rows: rows, channels: C, into: acc, vector: { r, c in
                let d = load16(xp.base + r * C + c) - load16(shift + c)
                return (d, d * d)
            }, scalar: { r, c in
                let d = xp.base[r * C + c] - shift[c]
                return (d, d * d)
            })
        }
        let statistics = batchNormStatistics(shiftedSums: sums, shift: { group, c in x[group * rowsPerGroup * C + c] },
                                             groups: G, channels: C, count: count, epsilon: epsilon)
        (mean, variance, meanF, inverseStd) = statistics
    }
    return (mean, variance, meanF, inverseStd)
}

/// Per-(group, channel) statistics from the shifted sums Σ(x − s), Σ(x − s)² of `count` values each (G×2C, as
/// `groupedColumnSums` returns them) and the shifts s: the mean and biased variance (Double) and the Float mean
/// and 1/√(var + eps) that x̂ uses. Shared by the train forward and the fused stem (FusedStem.swift).
func batchNormStatistics(shiftedSums sums: [Double], shift: (_ group: Int, _ channel: Int) -> Float,
                         groups G: Int, channels C: Int, count: Double, epsilon: Float)
    -> (mean: [Double], variance: [Double], meanUsed: [Float], inverseStd: [Float]) {
    var mean = [Double](repeating: 0, count: G * C), variance = mean
    var inverseStd = [Float](repeating: 0, count: G * C), meanF = inverseStd
    for group in 0..<G {
        for c in 0..<C {
            let m = sums[group * 2 * C + c] / count
            let i = group * C + c
            mean[i] = Double(shift(group, c)) + m
            variance[i] = max(0, sums[group * 2 * C + C + c] / count - m * m)
            inverseStd[i] = Float(1 / (variance[i] + Double(epsilon)).squareRoot())
            meanF[i] = Float(mean[i])
        }
    }
    return (mean, variance, meanF, inverseStd)
}

/// y = [max](x̂·γ + β, 0) with x̂ = (x − mean)·inv per (group, channel) (G×C, G = R/rowsPerGroup).
func normalizeRows(_ xp: SendablePointer<Float>, rows R: Int, channels C: Int, rowsPerGroup: Int,
                   mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float], relu: Bool,
                   threads: Int) -> [Float] {
    let parts = min(ComputeContext.batchParts, R)
    return [Float](unsafeUninitializedCapacity: R * C) { yb, initialised in
        let yp = SendablePointer(yb.baseAddress!)
        withNormalizationPointers(mean, inverseStd, gamma, beta) { mp, ip, gp, bp in
            parallelFor(parts, threads: threads) { part in
                for r in partRange(part, of: parts, count: R) {
                    let group = r / rowsPerGroup
                    normalizeRow(xp.base + r * C, into: yp.base + r * C, channels: C, mean: mp.base + group * C,
                                 inverseStd: ip.base + group * C, gamma: gp.base, beta: bp.base, relu: relu)
                }
            }
        }
        initialised = R * C
    }
}

/// y = [max](x̂·γ + β, 0) for one row of C channels (`dst` may be `src`). The one place these expressions are
/// applied: `normalizeRows`, the normalising convolution source and the fused pool all call it (identical bits).
@inline(__always)
func normalizeRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, channels C: Int,
                  mean mu: UnsafePointer<Float>, inverseStd inv: UnsafePointer<Float>,
                  gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, relu: Bool) {
    // SIMD16 blocks, then a scalar tail. The ReLU is max(y, 0) exactly as Swift.max defines it, `0 >= y ? 0 : y`
    // (NaN stays NaN, −0 becomes +0), in both.
    var c = 0
    while c + 16 <= C {
        let y = batchNormAffine(batchNormNormalize(load16(src + c), load16(mu + c), load16(inv + c)),
                                load16(gamma + c), load16(beta + c))
        store16(relu ? y.replacing(with: 0, where: SIMD16<Float>() .>= y) : y, dst + c)
        c += 16
    }
    while c < C {
        let y = batchNormAffine(batchNormNormalize(src[c], mu[c], inv[c]), gamma[c], beta[c])
        dst[c] = relu ? max(y, 0) : y
        c += 1
    }
}

/// Pointers to one batch norm's constants (from `BatchNormApplication.withConstants`), valid during a call: per-(group, channel) mean and 1/σ (G×C), γ, β (C),
/// and the images per group (the whole batch in eval mode: one group).
struct NormalizationConstants: Sendable {
    let mean: SendablePointer<Float>, inverseStd: SendablePointer<Float>
    let gamma: SendablePointer<Float>, beta: SendablePointer<Float>
    let imagesPerGroup: Int
    let relu: Bool

    /// Normalises the L rows of image `image` from `src` into `dst` (may be the same).
    @inline(__always)
    func normalizeImage(_ image: Int, _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                        rows L: Int, channels C: Int) {
        let group = image / imagesPerGroup
        let mu = mean.base + group * C, inv = inverseStd.base + group * C
        for r in 0..<L {
            normalizeRow(src + r * C, into: dst + r * C, channels: C, mean: mu, inverseStd: inv, gamma: gamma.base,
                         beta: beta.base, relu: relu)
        }
    }
}

/// One batch norm's application as arrays (the layer-level form of `NormalizationConstants`): per-(group,
/// channel) mean and 1/σ, γ, β, the images per group (the whole batch in eval mode) and whether a ReLU follows.
struct BatchNormApplication: Sendable {
    var mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float]
    var imagesPerGroup: Int
    var relu: Bool

    /// Runs `body` with pointers to the arrays, valid for the call.
    func withConstants<R>(_ body: (NormalizationConstants) -> R) -> R {
        withNormalizationPointers(mean, inverseStd, gamma, beta) { mp, ip, gp, bp in
            body(NormalizationConstants(mean: mp, inverseStd: ip, gamma: gp, beta: bp, imagesPerGroup: imagesPerGroup,
                                        relu: relu))
        }
    }
}

/// Runs `body` with pointers to a batch norm's per-(group, channel) mean and 1/σ and its γ and β, valid for the call.
func withNormalizationPointers<R>(_ mean: [Float], _ inverseStd: [Float], _ gamma: [Float], _ beta: [Float],
                                  _ body: (SendablePointer<Float>, SendablePointer<Float>, SendablePointer<Float>,
                                           SendablePointer<Float>) -> R) -> R {
    mean.withUnsafeBufferPointer { mb in
        inverseStd.withUnsafeBufferPointer { ib in
            gamma.withUnsafeBufferPointer { gb in
                beta.withUnsafeBufferPointer { bb in
                    body(SendablePointer(mb.baseAddress!), SendablePointer(ib.baseAddress!),
                         SendablePointer(gb.baseAddress!), SendablePointer(bb.baseAddress!))
                }
            }
        }
    }
}

/// A convolution's input read as [ReLU](BN(x)) of a stored pre-BN batch x (B×L×C): each image is normalised into
/// scratch when the convolution needs it, so the normalised batch is never written (identical bits to
/// `normalizeRows`).
func normalizedSource(_ x: SendablePointer<Float>, rows L: Int, channels C: Int,
                      constants n: NormalizationConstants) -> ConvolutionSource {
    ConvolutionSource(scratchCount: L * C) { index, scratch in
        n.normalizeImage(index, x.base + index * L * C, into: scratch, rows: L, channels: C)
        return UnsafePointer(scratch)
    }
}

/// Runs `body` with a convolution source reading [ReLU](BN(x)) of the pre-BN batch x (B×L×C).
private func withNormalizedSource<R>(_ x: [Float], rows L: Int, channels C: Int, _ bn: BatchNormApplication,
                                     _ body: (ConvolutionSource) -> R) -> R {
    x.withUnsafeBufferPointer { xb in
        bn.withConstants { n in body(normalizedSource(SendablePointer(xb.baseAddress!), rows: L, channels: C, constants: n)) }
    }
}

/// The convolution of [ReLU](BN(x)) (x: B×H×W×C pre-BN, normalised image by image as read).
func normalizedConvolutionForward(_ x: [Float], batch B: Int, geometry g: ConvolutionGeometry, normalization bn: BatchNormApplication,
                                  weight w: [Float], threads: Int) -> [Float] {
    withNormalizedSource(x, rows: g.inputHeight * g.inputWidth, channels: g.inputChannels, bn) { source in
        convolutionForward(source: source, batch: B, geometry: g, weight: w, threads: threads)
    }
}

/// dX (the gradient of the normalised input) and dW of a convolution whose input was [ReLU](BN(x)).
func normalizedConvolutionBackward(_ x: [Float], batch B: Int, geometry g: ConvolutionGeometry,
                                   normalization bn: BatchNormApplication, weight w: [Float],
                                   dOutput dy: ConvolutionOutputGradient, threads: Int) -> (dInput: [Float], dWeight: [Float]) {
    let r = withNormalizedSource(x, rows: g.inputHeight * g.inputWidth, channels: g.inputChannels, bn) { source in
        convolutionBackward(source: source, batch: B, geometry: g, weight: w, dOutput: dy, inputGradient: .stored,
                            threads: threads)
    }
    return (r.dInput ?? [], r.dWeight)
}

/// h[B×C] = mean over the L positions of [ReLU](BN(x)) (x: B×L×C pre-BN), without writing the normalised batch:
/// the same values and the same Double sums in position order as `globalAveragePoolForward` of `normalizeRows`.
func normalizedGlobalAveragePool(_ x: [Float], batch B: Int, spatial L: Int, channels C: Int,
                                 normalization bn: BatchNormApplication, threads: Int) -> [Float] {
    let parts = ComputeContext.parts(batch: B)
    return [Float](unsafeUninitializedCapacity: B * C) { hb, initialised in
        let h = SendablePointer(hb.baseAddress!)
        x.withUnsafeBufferPointer { xb in
            let xp = SendablePointer(xb.baseAddress!)
            bn.withConstants { n in
                parallelFor(parts, threads: threads) { part in
                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: L * C)
                    let acc = UnsafeMutablePointer<Double>.allocate(capacity: C)
                    defer { scratch.deallocate(); acc.deallocate() }
                    for b in ComputeContext.partRange(part, batch: B) {
                        n.normalizeImage(b, xp.base + b * L * C, into: scratch, rows: L, channels: C)
                        acc.initialize(repeating: 0, count: C)
                        for l in 0..<L { for c in 0..<C { acc[c] += Double(scratch[l * C + c]) } }
                        for c in 0..<C { h.base[b * C + c] = Float(acc[c] / Double(L)) }
                    }
                }
            }
        }
        initialised = B * C
    }
}

/// y = [max](x̂·γ + β, 0) of a whole R×C array (the layer's non-fused path).
func normalizeRows(_ x: [Float], rows R: Int, channels C: Int, rowsPerGroup: Int, mean: [Float], inverseStd: [Float],
                   gamma: [Float], beta: [Float], relu: Bool, threads: Int) -> [Float] {
    x.withUnsafeBufferPointer { xb in
        normalizeRows(SendablePointer(xb.baseAddress!), rows: R, channels: C, rowsPerGroup: rowsPerGroup, mean: mean,
                      inverseStd: inverseStd, gamma: gamma, beta: beta, relu: relu, threads: threads)
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
    let rows = batchNormGradientRows(dy, input: x, rows: R, channels: C, groups: G, mean: mean, inverseStd: inverseStd,
                                     gamma: gamma, beta: beta, relu: relu, train: train, threads: threads)
    return (rows.materialize(threads: threads), rows.dGamma, rows.dBeta)
}

/// Batch norm's backward pass 1: the per-group sums Σg and Σg·x̂ (g = dy masked by the ReLU), hence dγ and dβ,
/// and the constants of pass 2. dx itself is formed by `BatchNormGradientRows.fill` for whichever rows a consumer
/// reads (the next convolution's backward forms its dY group by group: dx is never stored), or all at once by
/// `materialize`. Same expressions either way: identical bits.
func batchNormGradientRows(_ dy: [Float], input x: [Float], rows R: Int, channels C: Int, groups G: Int,
                           mean: [Float], inverseStd: [Float], gamma: [Float], beta: [Float],
                           relu: Bool, train: Bool, threads: Int) -> BatchNormGradientRows {
    // The constants are packed by fixed offsets below: their sizes must be exact.
    require(mean.count == G * C && inverseStd.count == G * C && gamma.count == C && beta.count == C,
            "batch norm backward: \(mean.count) means, \(inverseStd.count) 1/σ, \(gamma.count) γ, \(beta.count) β for \(G) groups of \(C) channels")
    let rowsPerGroup = R / G, count = Double(rowsPerGroup)
    var sums: [Double] = []
    dy.withUnsafeBufferPointer { db in
    x.withUnsafeBufferPointer { inb in
    withNormalizationPointers(mean, inverseStd, gamma, beta) { mp, ip, gp, bp in
        let dyp = SendablePointer(db.baseAddress!), xp = SendablePointer(inb.baseAddress!)
        // Pass 1: per-group Σg and Σg·x̂ (2C values per group), g = dy masked by the ReLU.
        sums = groupedColumnSums(groups: G, rowsPerGroup: rowsPerGroup, width: 2 * C, threads: threads) { rows, acc in
            let group = rows.lowerBound / rowsPerGroup
            let mu = mp.base + group * C, inv = ip.base + group * C
            let gamma = gp.base, beta = bp.base
            blockedColumnSums(rows: rows, channels: C, into: acc, vector: { r, c in
                let dy = load16(dyp.base + r * C + c)
                let h = batchNormNormalize(load16(xp.base + r * C + c), load16(mu + c), load16(inv + c))
                let g = relu ? reluMasked(dy, output: batchNormAffine(h, load16(gamma + c), load16(beta + c))) : dy
                return (g, g * h)
            }, scalar: { r, c in
                let dy = dyp.base[r * C + c]
                let h = batchNormNormalize(xp.base[r * C + c], mu[c], inv[c])
                let g = relu ? (batchNormAffine(h, gamma[c], beta[c]) > 0 ? dy : 0) : dy
                return (g, g * h)
            })
        }
    }}}
    // Pass 2's constants per (group, channel): scale = γ·inv, mean(g), mean(g·x̂) (zero in eval mode).
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
    var dGamma = [Float](repeating: 0, count: C), dBeta = dGamma
    for c in 0..<C {
        var sg = 0.0, sgh = 0.0
        for group in 0..<G { sg += sums[group * 2 * C + c]; sgh += sums[group * 2 * C + C + c] }
        dBeta[c] = Float(sg); dGamma[c] = Float(sgh)
    }
    return BatchNormGradientRows(dy: dy, x: x, rows: R, channels: C, rowsPerGroup: rowsPerGroup, relu: relu,
                                 constants: mean + inverseStd + gamma + beta + scale + meanG + meanGH, groups: G,
                                 dGamma: dGamma, dBeta: dBeta)
}

/// Batch norm's dx, row by row, after pass 1 (`batchNormGradientRows`): dx = scale·(g − mean(g) − x̂·mean(g·x̂)).
struct BatchNormGradientRows: Sendable {
    let dy: [Float], x: [Float]
    /// R rows of C channels.
    let rows: Int, channels: Int, rowsPerGroup: Int, relu: Bool
    /// mean, 1/σ (G×C each), γ, β (C each), scale, mean(g), mean(g·x̂) (G×C each), in that order.
    let constants: [Float]
    let groups: Int
    let dGamma: [Float], dBeta: [Float]

    /// dx of `range` into `out` (row r at out + (r − range.lowerBound)·C).
    func fill(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let C = channels, GC = groups * C, rowsPerGroup = rowsPerGroup
        constants.withUnsafeBufferPointer { kb in
        dy.withUnsafeBufferPointer { db in
        x.withUnsafeBufferPointer { xb in
            let k = kb.baseAddress!, dyp = db.baseAddress!, xp = xb.baseAddress!
            let gamma = k + 2 * GC, beta = gamma + C
            for r in range {
                let group = r / rowsPerGroup
                let mu = k + group * C, inv = k + GC + group * C
                let s = beta + C + group * C, m = s + GC, mh = m + GC
                let dr = dyp + r * C, xr = xp + r * C, dst = out + (r - range.lowerBound) * C
                if relu {
                    for c in 0..<C {
                        let h = batchNormNormalize(xr[c], mu[c], inv[c])
                        let g = batchNormAffine(h, gamma[c], beta[c]) > 0 ? dr[c] : 0
                        dst[c] = s[c] * (g - m[c] - h * mh[c])
                    }
                } else {
                    for c in 0..<C {
                        let h = batchNormNormalize(xr[c], mu[c], inv[c])
                        dst[c] = s[c] * (dr[c] - m[c] - h * mh[c])
                    }
                }
            }
        }}}
    }

    /// All of dx (R×C), rows split into `ComputeContext.batchParts` parts over `threads`.
    func materialize(threads: Int) -> [Float] {
        let R = rows, C = channels, parts = min(ComputeContext.batchParts, R)
        return [Float](unsafeUninitializedCapacity: R * C) { xb, initialised in
            let dx = SendablePointer(xb)
            parallelFor(parts, threads: threads) { part in
                let range = partRange(part, of: parts, count: R)
                fill(range, into: dx.base + range.lowerBound * C)
            }
            initialised = R * C
        }
    }

    /// dx as a convolution's output gradient, formed where the convolution reads it.
    var outputGradient: ConvolutionOutputGradient { .computed { range, out in fill(range, into: out) } }
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
