// The fused stem: conv1 → BN1 (+ReLU) → conv2 without conv1's output in memory.
//
// Why: at 28×28 the first stage's activation is by far the largest tensor of the encoder (B·784·32 floats, 26 MB
// at B 256) while conv1 is cheap (K = 9 columns for grey images). Stored, that tensor and its gradient cross
// main memory about twenty times per MoCo step (~540 MB: conv1 writes it, BN reads it twice and writes y, conv2
// reads y, and backward does the same with the gradients), which cost more than conv1's arithmetic many times
// over. Here conv1 is recomputed per image, in cache, from the 0.8 MB of input images wherever its output is
// needed: BN1's statistics, conv2's forward input, conv2's backward input and BN1's backward.
//
// Forward: (1) BN1's shifted sums with conv1 recomputed per image, in the row order and parts of
// `batchNormTrainStatistics`, with Float blocks of 16 rows that restart at each image (the same blocks, so
// bit-identical statistics, when the rows per image are a multiple of 16 and the parts start on images, as for
// 28×28 with B divisible by 8; otherwise equal within Float rounding); (2) conv2 reads its images from a source
// that recomputes conv1 → BN1 → ReLU per image with the same expressions (identical y1 for identical statistics).
// Backward: conv2's backward hands each image's dY1 to a sink that recomputes conv1 and accumulates per
// (part, group) Σg and Σg·x̂ (BN1's two sums) and three pieces of conv1's weight gradient. dx1 = s·(g − ḡ − x̂·ḡx̂)
// (s = γ·inv, ḡ = mean g, ḡx̂ = mean g·x̂ per group and channel) is affine in per-group constants known only when
// the whole group is done, so dx1 itself is never formed:
//     dW1[o, k] = Σ_groups s[o]·(Σ col[k]·g[o] − ḡ[o]·Σ col[k] − ḡx̂[o]·Σ col[k]·x̂[o])     (sums over the rows)
// Part sums are added in part order: no byte depends on the thread count. The unfused layers stay the reference:
// the tests compare both paths (forward bit for bit under the condition above, backward within Float rounding).
// Deliberately not here: the layer plumbing (Model+Fusion.swift), the later stages' BN fusion (Normalization.swift).
//
// Legend: B = batch, G = split-BN groups, L = conv1's output pixels (P·Q), O = conv1's output channels,
// K = conv1's columns (k·k·C), col = conv1's im2col rows (L×K), x1 = conv1's output (L×O), x̂ = normalised x1,
// g = dY1 masked by the ReLU, W = the accumulator width of one (part, group).
import Parallel

/// Floats of one zero-padded image: (H + 2·pad)×(W + 2·pad)×C.
@inline(__always)
func paddedImageCount(_ g: ConvolutionGeometry) -> Int {
    (g.inputHeight + 2 * g.padding) * (g.inputWidth + 2 * g.padding) * g.inputChannels
}

/// Where row l (output pixel p·Q + q) of a column matrix starts in its zero-padded image: p·s·(W + 2·pad)·C + q·s·C.
func paddedRowOffsets(_ g: ConvolutionGeometry) -> [Int] {
    let rowLength = (g.inputWidth + 2 * g.padding) * g.inputChannels
    return (0..<g.outputPixels).map { l in
        (l / g.outputWidth) * g.stride * rowLength + (l % g.outputWidth) * g.stride * g.inputChannels
    }
}

/// Where element k of a column-matrix row sits relative to the row's start in a zero-padded image:
/// (ki·(W + 2·pad) + kj)·C + c for k = (ki·k + kj)·C + c (im2col's column order).
func paddedColumnOffsets(_ g: ConvolutionGeometry) -> [Int] {
    let rowLength = (g.inputWidth + 2 * g.padding) * g.inputChannels, C = g.inputChannels
    var offsets: [Int] = []
    for ki in 0..<g.kernelSize { for kj in 0..<g.kernelSize { for c in 0..<C { offsets.append(ki * rowLength + kj * C + c) } } }
    return offsets
}

/// The batch's images zero-padded (B × `paddedImageCount`), built once per forward pass and kept for backward:
/// conv1 then reads its column matrix straight from them (no im2col: for a thin layer im2col is mostly per-run
/// overhead, and the matrix is 9× the image).
func fusedStemPaddedImages(_ x: [Float], batch B: Int, geometry g: ConvolutionGeometry, threads: Int) -> [Float] {
    let parts = ComputeContext.parts(batch: B), size = paddedImageCount(g)
    let H = g.inputHeight, W = g.inputWidth, C = g.inputChannels, pad = g.padding
    let rowLength = (W + 2 * pad) * C
    return [Float](unsafeUninitializedCapacity: B * size) { buffer, initialised in
        let out = SendablePointer(buffer.baseAddress!)
        x.withUnsafeBufferPointer { xb in
            let xp = SendablePointer(xb.baseAddress!)
            parallelFor(parts, threads: threads) { part in
                for image in ComputeContext.partRange(part, batch: B) {
                    let padded = out.base + image * size, source = xp.base + image * g.inputSize
                    padded.update(repeating: 0, count: size)
                    for h in 0..<H {
                        (padded + (h + pad) * rowLength + pad * C).update(from: source + h * W * C, count: W * C)
                    }
                }
            }
        }
        initialised = B * size
    }
}

/// Pointers to the stem's fixed inputs, valid during one call: the padded images, conv1's Wᵀ (K×O) and the K
/// element offsets of a column-matrix row.
struct FusedStemInput: Sendable {
    let geometry: ConvolutionGeometry
    let padded: SendablePointer<Float>
    let weightTransposed: SendablePointer<Float>
    let offsets: SendablePointer<Int>
    /// Where row l of a column matrix starts within a padded image (`paddedRowOffsets`): a table, since an integer
    /// division per row cost as much as a fifth of conv1's arithmetic.
    let rowOffsets: SendablePointer<Int>

    /// Where row l (output pixel p·Q + q) of image `image`'s column matrix starts in the padded images.
    @inline(__always)
    func rowStart(image: Int, row l: Int) -> UnsafePointer<Float> {
        UnsafePointer(padded.base + image * paddedImageCount(geometry) + rowOffsets.base[l])
    }

    /// x1[L×O] = conv1 of one image, with the arithmetic of `directConvolution` (identical bits).
    @inline(__always)
    func convolution(image: Int, into x1: UnsafeMutablePointer<Float>) {
        let off = offsets.base
        directProduct(rows: geometry.outputPixels, columns: geometry.columnCount, row: { rowStart(image: image, row: $0) },
                      element: { $0[off[$1]] }, weightTransposed: weightTransposed.base,
                      outputs: geometry.outputChannels, into: x1)
    }

    /// The column matrix (L×K) of one image, as `im2col` writes it.
    @inline(__always)
    func columns(image: Int, into col: UnsafeMutablePointer<Float>) {
        let K = geometry.columnCount, off = offsets.base
        for l in 0..<geometry.outputPixels {
            let start = rowStart(image: image, row: l), dst = col + l * K
            for k in 0..<K { dst[k] = start[off[k]] }
        }
    }
}

/// BN1's shifted sums over conv1's output, recomputed per image: G×2·O values as `groupedColumnSums` returns them,
/// and the shifts (row 0 of each group's first image's conv1 output), as `batchNormTrainStatistics` takes them.
func fusedStemSums(_ input: FusedStemInput, batch B: Int, groups G: Int, threads: Int) -> (sums: [Double], shifts: [Float]) {
    let g = input.geometry, L = g.outputPixels, O = g.outputChannels
    let imagesPerGroup = B / G, rowsPerGroup = imagesPerGroup * L
    let shifts = [Float](unsafeUninitializedCapacity: G * O) { buffer, initialised in
        let x1 = UnsafeMutablePointer<Float>.allocate(capacity: L * O)
        defer { x1.deallocate() }
        for group in 0..<G {
            input.convolution(image: group * imagesPerGroup, into: x1)
            for c in 0..<O { buffer[group * O + c] = x1[c] }
        }
        initialised = G * O
    }
    let sums = shifts.withUnsafeBufferPointer { shiftBuffer in
        let sp = SendablePointer(shiftBuffer.baseAddress!)
        return groupedColumnSums(groups: G, rowsPerGroup: rowsPerGroup, width: 2 * O, threads: threads) { rows, acc in
            let shift = sp.base + (rows.lowerBound / rowsPerGroup) * O
            let x1 = UnsafeMutablePointer<Float>.allocate(capacity: L * O)
            defer { x1.deallocate() }
            // Image by image; Float blocks restart at each image (the same blocks as the stored path when the
            // range starts on an image and L is a multiple of 16, e.g. 28×28: 784 = 49·16).
            var image = rows.lowerBound / L
            while image * L < rows.upperBound {
                input.convolution(image: image, into: x1)
                let local = max(rows.lowerBound, image * L) - image * L, end = min(rows.upperBound, (image + 1) * L) - image * L
                blockedColumnSums(rows: local..<end, channels: O, into: acc, vector: { r, c in
                    let d = load16(x1 + r * O + c) - load16(shift + c)
                    return (d, d * d)
                }, scalar: { r, c in
                    let d = x1[r * O + c] - shift[c]
                    return (d, d * d)
                })
                image += 1
            }
        }
    }
    return (sums, shifts)
}

/// conv2's input source: y1 = ReLU(BN1(conv1(image))) recomputed into scratch, with the expressions of
/// `normalizeRows` (identical bits).
func fusedStemSource(_ input: FusedStemInput, normalization n: NormalizationConstants) -> ConvolutionSource {
    let L = input.geometry.outputPixels, O = input.geometry.outputChannels
    return ConvolutionSource(scratchCount: L * O) { index, y in
        input.convolution(image: index, into: y)
        n.normalizeImage(index, y, into: y, rows: L, channels: O)
        return UnsafePointer(y)
    }
}

/// Accumulator width of one (part, group): Σg (O), Σg·x̂ (O), Σ col·g (O×K), Σ col·x̂ (O×K), Σ col (K).
@inline(__always)
func fusedStemAccumulatorWidth(_ g: ConvolutionGeometry) -> Int {
    let O = g.outputChannels, K = g.columnCount
    return 2 * O + 2 * O * K + K
}

/// conv2's input-gradient sink: for each image, recomputes conv1, masks dY1 by the ReLU into g, and adds the
/// image's sums into `accumulators` at (part, group) (parts × G × width Doubles, zeroed by the caller).
func fusedStemSink(_ input: FusedStemInput, normalization n: NormalizationConstants, groups G: Int,
                   accumulators: SendablePointer<Double>) -> ConvolutionInputGradient {
    let g = input.geometry, L = g.outputPixels, O = g.outputChannels, K = g.columnCount
    let width = fusedStemAccumulatorWidth(g)
    return .sink(scratchCount: L * K + L * O + 2 * O * K) { part, image, dy, scratch in
        let col = scratch, x1 = col + L * K, product = x1 + L * O, kernelScratch = product + O * K
        input.columns(image: image, into: col)
        directProduct(col, rows: L, columns: K, weightTransposed: input.weightTransposed.base, outputs: O, into: x1)
        let group = image / n.imagesPerGroup
        let acc = accumulators.base + (part * G + group) * width
        let mu = n.mean.base + group * O, inv = n.inverseStd.base + group * O
        let gamma = n.gamma.base, beta = n.beta.base
        // g and x̂ in place of dY1 and x1, and BN1's sums Σg, Σg·x̂ (as batchNormBackward's pass 1).
        blockedColumnSums(rows: 0..<L, channels: O, into: acc, vector: { r, c in
            let dr = dy + r * O + c, xr = x1 + r * O + c
            let h = batchNormNormalize(load16(xr), load16(mu + c), load16(inv + c))
            let masked = reluMasked(load16(dr), output: batchNormAffine(h, load16(gamma + c), load16(beta + c)))
            store16(masked, dr); store16(h, xr)
            return (masked, masked * h)
        }, scalar: { r, c in
            let dr = dy + r * O + c, xr = x1 + r * O + c
            let h = batchNormNormalize(xr[0], mu[c], inv[c])
            let masked = batchNormAffine(h, gamma[c], beta[c]) > 0 ? dr[0] : 0
            dr[0] = masked; xr[0] = h
            return (masked, masked * h)
        })
        // Σ col·g and Σ col·x̂ (O×K each): Float over the image, then Double; Σ col (K) in Double, since
        // ḡ·Σcol can nearly cancel Σcol·g.
        directWeightGradient(column: col, dOutput: dy, rows: L, columns: K, outputs: O, accumulate: false, into: product,
                             scratch: kernelScratch)
        for i in 0..<(O * K) { acc[2 * O + i] += Double(product[i]) }
        directWeightGradient(column: col, dOutput: x1, rows: L, columns: K, outputs: O, accumulate: false, into: product,
                             scratch: kernelScratch)
        for i in 0..<(O * K) { acc[2 * O + O * K + i] += Double(product[i]) }
        let colSums = acc + 2 * O + 2 * O * K
        for r in 0..<L { for k in 0..<K { colSums[k] += Double(col[r * K + k]) } }
    }
}

/// BN1's dγ, dβ and conv1's dW (O×K column order) from the sink's accumulators: parts are added in part order
/// per group, then the groups in order (Double). `train` false (eval mode): dx1 = s·g, so only Σ col·g counts.
func fusedStemGradients(accumulators: UnsafePointer<Double>, parts: Int, groups G: Int, geometry g: ConvolutionGeometry,
                        rowsPerGroup: Int, gamma: [Float], inverseStd: [Float], train: Bool)
    -> (dWeightColumns: [Float], dGamma: [Float], dBeta: [Float]) {
    let O = g.outputChannels, K = g.columnCount, width = fusedStemAccumulatorWidth(g)
    var total = [Double](repeating: 0, count: G * width)
    for group in 0..<G {
        for part in 0..<parts {
            let src = accumulators + (part * G + group) * width
            for j in 0..<width { total[group * width + j] += src[j] }
        }
    }
    let count = Double(rowsPerGroup)
    var dW = [Double](repeating: 0, count: O * K), dGamma = [Double](repeating: 0, count: O), dBeta = dGamma
    for group in 0..<G {
        let t = group * width
        for o in 0..<O {
            let sumG = total[t + o], sumGH = total[t + O + o]
            dBeta[o] += sumG; dGamma[o] += sumGH
            let meanG = train ? sumG / count : 0, meanGH = train ? sumGH / count : 0
            let s = Double(gamma[o]) * Double(inverseStd[group * O + o])
            for k in 0..<K {
                let colG = total[t + 2 * O + o * K + k], colH = total[t + 2 * O + O * K + o * K + k]
                let colSum = total[t + 2 * O + 2 * O * K + k]
                dW[o * K + k] += s * (colG - meanG * colSum - meanGH * colH)
            }
        }
    }
    return (dW.map { Float($0) }, dGamma.map { Float($0) }, dBeta.map { Float($0) })
}

// MARK: - Array-level entries (Model+Fusion.swift calls these; the pointers stay in this file)

/// Runs `body` with the stem's input pointers (padded images, conv1's Wᵀ, element offsets), valid for the call.
private func withFusedStemInput<R>(_ padded: [Float], geometry g: ConvolutionGeometry, weightTransposed wt: [Float],
                                   _ body: (FusedStemInput) -> R) -> R {
    let offsets = paddedColumnOffsets(g), rowOffsets = paddedRowOffsets(g)
    return padded.withUnsafeBufferPointer { pb in
        wt.withUnsafeBufferPointer { wb in
            offsets.withUnsafeBufferPointer { ob in
                rowOffsets.withUnsafeBufferPointer { rb in
                    body(FusedStemInput(geometry: g, padded: SendablePointer(pb.baseAddress!),
                                        weightTransposed: SendablePointer(wb.baseAddress!),
                                        offsets: SendablePointer(ob.baseAddress!),
                                        rowOffsets: SendablePointer(rb.baseAddress!)))
                }
            }
        }
    }
}

/// BN1's shifted sums and shifts (`fusedStemSums`) from the padded images and conv1's Wᵀ.
func fusedStemSums(padded: [Float], geometry g1: ConvolutionGeometry, weightTransposed wt: [Float], batch B: Int,
                   groups G: Int, threads: Int) -> (sums: [Double], shifts: [Float]) {
    withFusedStemInput(padded, geometry: g1, weightTransposed: wt) { fusedStemSums($0, batch: B, groups: G, threads: threads) }
}

/// conv2's output from ReLU(BN1(conv1(images))), conv1 recomputed per image.
func fusedStemForward(padded: [Float], geometry g1: ConvolutionGeometry, weightTransposed wt: [Float],
                      normalization bn: BatchNormApplication, batch B: Int, geometry2 g2: ConvolutionGeometry,
                      weight2 w2: [Float], threads: Int) -> [Float] {
    withFusedStemInput(padded, geometry: g1, weightTransposed: wt) { input in
        bn.withConstants { n in
            convolutionForward(source: fusedStemSource(input, normalization: n), batch: B, geometry: g2, weight: w2,
                               threads: threads)
        }
    }
}

/// conv2's dW and, through the sink's accumulators, BN1's dγ, dβ and conv1's dW (O×K column order) from
/// dL/d(conv2 output). `train` false: eval-mode BN (dx1 = s·g).
func fusedStemBackward(padded: [Float], geometry g1: ConvolutionGeometry, weightTransposed wt: [Float],
                       normalization bn: BatchNormApplication, groups G: Int, train: Bool, batch B: Int,
                       geometry2 g2: ConvolutionGeometry, weight2 w2: [Float], dOutput dy: ConvolutionOutputGradient,
                       threads: Int) -> (dWeight1Columns: [Float], dGamma: [Float], dBeta: [Float], dWeight2: [Float]) {
    let parts = ComputeContext.parts(batch: B), width = fusedStemAccumulatorWidth(g1)
    let accumulators = UnsafeMutablePointer<Double>.allocate(capacity: parts * G * width)
    defer { accumulators.deallocate() }
    accumulators.initialize(repeating: 0, count: parts * G * width)
    let dWeight2 = withFusedStemInput(padded, geometry: g1, weightTransposed: wt) { input in
        bn.withConstants { n in
            convolutionBackward(source: fusedStemSource(input, normalization: n), batch: B, geometry: g2, weight: w2,
                                dOutput: dy,
                                inputGradient: fusedStemSink(input, normalization: n, groups: G,
                                                             accumulators: SendablePointer(accumulators)),
                                threads: threads).dWeight
        }
    }
    let r = fusedStemGradients(accumulators: accumulators, parts: parts, groups: G, geometry: g1,
                               rowsPerGroup: (B / G) * g1.outputPixels, gamma: bn.gamma, inverseStd: bn.inverseStd,
                               train: train)
    return (r.dWeightColumns, r.dGamma, r.dBeta, dWeight2)
}
