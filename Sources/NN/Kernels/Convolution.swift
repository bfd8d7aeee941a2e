// Convolution kernels on channels-last images (B×H×W×C): im2col / col2im and the batched im2col + sgemm
// forward and backward passes. The input images come from a `ConvolutionSource` (a stored batch, or images
// produced on the fly: the fused stem's conv1 → BN → ReLU, a BN + ReLU applied as read; FusedStem.swift,
// Normalization.swift), and the input gradient can go to a sink image by image instead of a stored tensor.
//
// Why channels-last: a row of the column matrix (one output pixel) is, for each kernel row ki, ONE contiguous
// run of k·C input floats whatever the stride, so im2col and col2im are memcpy/add of long runs; and the GEMM
// col[N×K]·Wᵀ writes B×P×Q×O directly, with no scatter into planes.
//
// Determinism: the batch is split into `ComputeContext.batchParts` parts (fixed); each part runs its images in
// near-equal groups of at most `imagesPerGEMM` (depends only on shapes) through one im2col + one sgemm, and accumulates its weight
// gradient into its own buffer; the part buffers are summed in part order. Forward hands the groups to the threads
// one by one (no accumulator); backward hands out whole parts. No byte depends on the thread count.
// Layers whose zero padding wastes much of the work (convnet-s conv4) run by pixel classes instead:
// ConvolutionPixelClasses.swift. Deliberately not here: dilation, groups, bias (the encoders have none), Winograd/FFT.
//
// Legend: B = batch, H×W = input size, C = input channels, P×Q = output size, O = output channels,
// k = kernel size (square), K = k·k·C (columns of the column matrix, ordered ki, kj, c), L = P·Q,
// n = images in one GEMM group, N = n·L (rows of the column matrix). Weights: PyTorch order O×C×k×k outside,
// permuted to O×(ki, kj, c) = O×K inside.
import Parallel

/// Shapes of one 2-d convolution (square kernel, symmetric zero padding).
public struct ConvolutionGeometry: Sendable, Equatable {
    public let inputChannels: Int, inputHeight: Int, inputWidth: Int
    public let outputChannels: Int, kernelSize: Int, stride: Int, padding: Int
    public let outputHeight: Int, outputWidth: Int

    public init(inputChannels: Int, inputHeight: Int, inputWidth: Int,
                outputChannels: Int, kernelSize: Int, stride: Int, padding: Int) {
        self.inputChannels = inputChannels; self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.outputChannels = outputChannels; self.kernelSize = kernelSize
        self.stride = stride; self.padding = padding
        outputHeight = (inputHeight + 2 * padding - kernelSize) / stride + 1
        outputWidth = (inputWidth + 2 * padding - kernelSize) / stride + 1
    }

    /// Columns of the column matrix: k·k·C.
    @inlinable public var columnCount: Int { inputChannels * kernelSize * kernelSize }
    /// Output pixels per image: P·Q.
    @inlinable public var outputPixels: Int { outputHeight * outputWidth }
    /// Elements of one input image: H·W·C.
    @inlinable public var inputSize: Int { inputChannels * inputHeight * inputWidth }
    /// Elements of one output image: P·Q·O.
    @inlinable public var outputSize: Int { outputChannels * outputPixels }
    /// Multiply-adds per image of the forward pass.
    @inlinable public var multiplyAddsPerImage: Int { outputChannels * columnCount * outputPixels }

    /// Images per im2col + sgemm group: a column matrix of at most about `targetColumnFloats` floats (it then
    /// stays in the core's L2 cache between im2col and the GEMM), at least one image, at most the part size.
    func imagesPerGEMM(partSize: Int) -> Int {
        let rows = Self.targetColumnFloats / max(1, columnCount)
        return max(1, min(partSize, rows / max(1, outputPixels)))
    }

    /// The GEMM groups of a part of `partSize` images: as few as `imagesPerGEMM` allows, of near-equal size
    /// (so no small, slow GEMM at the end). Depends only on shapes, never on threads: bit-identical results.
    func gemmGroups(partSize: Int) -> Int {
        let n = imagesPerGEMM(partSize: partSize)
        return (partSize + n - 1) / n
    }
    static let targetColumnFloats = 262_144

    /// Layers with at most this many columns (k·k·C; the first layer: 9 for grey, 27 for RGB) skip sgemm,
    /// which is slow at such a small inner dimension, for the direct SIMD kernels below.
    public static let directColumnLimit = 32
}

// MARK: - Small vector helpers

/// dst[0..<count] = src[0..<count]; a plain loop for the short runs of thin layers, memmove otherwise.
@inline(__always)
func copyFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    if count < 16 {
        for i in 0..<count { dst[i] = src[i] }
    } else {
        dst.update(from: src, count: count)
    }
}

/// dst[0..<count] += src[0..<count] (SIMD16 blocks, then a scalar tail).
@inline(__always)
func addFloats(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    while i + 16 <= count {
        let a = d.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        let b = s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
        d.storeBytes(of: a + b, toByteOffset: 4 * i, as: SIMD16<Float>.self)
        i += 16
    }
    while i < count { dst[i] += src[i]; i += 1 }
}

// MARK: - im2col / col2im (one image)

/// One kernel row of one output pixel: the `count` taps of input row `ih` starting at input column `iw0`, C floats
/// each, copied to `dst` (zeros where a tap falls in the padding). Shared by im2col and the pixel-class im2col.
@inline(__always)
func gatherTaps(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, row ih: Int, column iw0: Int, taps count: Int,
                into dst: UnsafeMutablePointer<Float>) {
    let H = g.inputHeight, W = g.inputWidth, C = g.inputChannels
    if ih < 0 || ih >= H {
        dst.update(repeating: 0, count: count * C)
    } else if iw0 >= 0 && iw0 + count <= W {
        copyFloats(dst, x + (ih * W + iw0) * C, count * C)
    } else {
        for t in 0..<count {
            let iw = iw0 + t
            if iw < 0 || iw >= W {
                (dst + t * C).update(repeating: 0, count: C)
            } else {
                copyFloats(dst + t * C, x + (ih * W + iw) * C, C)
            }
        }
    }
}

/// The reverse of `gatherTaps`: adds the `count` taps in `src` onto the input gradient `dx` (taps in the padding
/// are dropped). Shared by col2im and the pixel-class col2im.
@inline(__always)
func scatterTaps(_ src: UnsafePointer<Float>, _ g: ConvolutionGeometry, row ih: Int, column iw0: Int, taps count: Int,
                 into dx: UnsafeMutablePointer<Float>) {
    let H = g.inputHeight, W = g.inputWidth, C = g.inputChannels
    if ih < 0 || ih >= H { return }
    if iw0 >= 0 && iw0 + count <= W {
        addFloats(dx + (ih * W + iw0) * C, src, count * C)
    } else {
        for t in 0..<count {
            let iw = iw0 + t
            if iw >= 0 && iw < W { addFloats(dx + (ih * W + iw) * C, src + t * C, C) }
        }
    }
}

/// Writes the L×K column matrix of one channels-last image: row p·Q + q, column (ki·k + kj)·C + c holds
/// x[p·s − pad + ki, q·s − pad + kj, c], or 0 in the padding.
@inline(__always)
func im2col(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, _ col: UnsafeMutablePointer<Float>) {
    let k = g.kernelSize, s = g.stride, pad = g.padding, P = g.outputHeight, Q = g.outputWidth
    let K = g.columnCount, run = k * g.inputChannels
    for p in 0..<P {
        for q in 0..<Q {
            let row = col + (p * Q + q) * K
            for ki in 0..<k {
                gatherTaps(x, g, row: p * s - pad + ki, column: q * s - pad, taps: k, into: row + ki * run)
            }
        }
    }
}

/// Adds the L×K column-matrix gradient of one image onto its channels-last input gradient (`dx` initialised).
@inline(__always)
func col2im(_ dcol: UnsafePointer<Float>, _ g: ConvolutionGeometry, _ dx: UnsafeMutablePointer<Float>) {
    let k = g.kernelSize, s = g.stride, pad = g.padding, P = g.outputHeight, Q = g.outputWidth
    let K = g.columnCount, run = k * g.inputChannels
    for p in 0..<P {
        for q in 0..<Q {
            let row = dcol + (p * Q + q) * K
            for ki in 0..<k {
                scatterTaps(row + ki * run, g, row: p * s - pad + ki, column: q * s - pad, taps: k, into: dx)
            }
        }
    }
}

// MARK: - Weight layout

/// Output channels per work item of the weight permutations: fixed (results never depend on the thread count);
/// layers smaller than `parallelWeightFloats` floats run on the caller alone.
private let weightRowsPerItem = 16
private let parallelWeightFloats = 32_768

/// PyTorch O×C×k×k → O×(ki, kj, c); output channels split over `threads` (writes in order, reads within one
/// output channel's k·k·C floats).
func permuteWeightToColumns(_ w: [Float], _ g: ConvolutionGeometry, threads: Int = 1) -> [Float] {
    let O = g.outputChannels, C = g.inputChannels, k = g.kernelSize, K = g.columnCount
    return [Float](unsafeUninitializedCapacity: O * K) { buffer, initialised in
        let out = SendablePointer(buffer.baseAddress!)
        w.withUnsafeBufferPointer { wb in
            let src = SendableConstPointer(wb)
            forEachWeightRow(O, K, threads: threads) { o, _ in
                let from = src.base + o * K, to = out.base + o * K
                for ki in 0..<k { for kj in 0..<k { for c in 0..<C {
                    to[(ki * k + kj) * C + c] = from[(c * k + ki) * k + kj]
                }}}
            }
        }
        initialised = O * K
    }
}

/// O×(ki, kj, c) → PyTorch O×C×k×k.
func permuteColumnsToWeight(_ wk: [Float], _ g: ConvolutionGeometry) -> [Float] {
    wk.withUnsafeBufferPointer { summedWeightColumns(SendablePointer($0.baseAddress!), parts: 1, g, threads: 1) }
}

/// Σ over `parts` consecutive O×(ki, kj, c) blocks (summed in part order, element by element), permuted to
/// PyTorch O×C×k×k; output channels split over `threads`. The reduction of the per-part weight gradients.
func summedWeightColumns(_ blocks: SendablePointer<Float>, parts: Int, _ g: ConvolutionGeometry,
                         threads: Int) -> [Float] {
    let O = g.outputChannels, C = g.inputChannels, k = g.kernelSize, K = g.columnCount
    return [Float](unsafeUninitializedCapacity: O * K) { buffer, initialised in
        let out = SendablePointer(buffer.baseAddress!)
        forEachWeightRow(O, K, threads: threads, scratch: parts > 1 ? K : 0) { o, row in
            var from = UnsafePointer(blocks.base + o * K)
            if parts > 1 {
                row.update(from: from, count: K)
                for part in 1..<parts { addFloats(row, blocks.base + (part * O + o) * K, K) }
                from = UnsafePointer(row)
            }
            let to = out.base + o * K
            for c in 0..<C { for ki in 0..<k { for kj in 0..<k {
                to[(c * k + ki) * k + kj] = from[(ki * k + kj) * C + c]
            }}}
        }
        initialised = O * K
    }
}

/// Calls `body(o, scratch)` for the O output channels of a weight of O×K floats, in fixed items of
/// `weightRowsPerItem` channels over `threads` (the caller alone for small weights), with `scratch` floats per worker.
private func forEachWeightRow(_ O: Int, _ K: Int, threads: Int, scratch: Int = 0,
                              _ body: @Sendable (Int, UnsafeMutablePointer<Float>) -> Void) {
    let items = (O + weightRowsPerItem - 1) / weightRowsPerItem
    parallelFor(items, threads: O * K < parallelWeightFloats ? 1 : threads, scratch: scratch, of: Float.self) { item, row in
        for o in (item * weightRowsPerItem)..<min(O, (item + 1) * weightRowsPerItem) { body(o, row) }
    }
}

// MARK: - Where the input comes from and where its gradient goes

/// Where a convolution reads its input images. `stored` points into a batch tensor; a producing source writes
/// image `index` into per-part scratch of `scratchCount` floats and returns it (`fusedStemSource` recomputes
/// conv1 → BN → ReLU per image; `normalizedSource` applies a BN + ReLU to a stored pre-BN image), so that
/// activation is never kept in memory.
struct ConvolutionSource: Sendable {
    let scratchCount: Int
    let image: @Sendable (_ index: Int, _ scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float>

    static func stored(_ x: SendablePointer<Float>, imageSize: Int) -> ConvolutionSource {
        ConvolutionSource(scratchCount: 0) { index, _ in UnsafePointer(x.base + index * imageSize) }
    }
}

/// Where a convolution's backward reads dY (B·P·Q rows of O floats): a stored batch tensor, or rows formed on
/// demand into the part's scratch by `fill(rows, into)` (batch norm's backward pass 2, so that the gradient
/// between a BN and the convolution before it is never stored; `BatchNormGradientRows`).
enum ConvolutionOutputGradient: Sendable {
    case stored(SendablePointer<Float>)
    /// `fill(rows, into)` writes rows `rows` of dY to `into` (row r at into + (r − rows.lowerBound)·O).
    case computed(@Sendable (Range<Int>, UnsafeMutablePointer<Float>) -> Void)

    /// Scratch floats a part needs to hold `rows` rows of O floats (0 when stored).
    func scratchCount(rows: Int, outputs O: Int) -> Int {
        if case .stored = self { return 0 }
        return rows * O
    }

    /// Rows `range` of dY (O floats each): a pointer into the stored batch, or formed into `scratch`.
    @inline(__always)
    func rows(_ range: Range<Int>, outputs O: Int, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch self {
        case let .stored(dy):
            return UnsafePointer(dy.base + range.lowerBound * O)
        case let .computed(fill):
            fill(range, scratch)
            return UnsafePointer(scratch)
        }
    }
}

/// What becomes of the input gradient dX in backward: not computed, stored as a batch tensor, or handed image by
/// image (in per-part scratch, right after col2im) to a sink that consumes it (the fused stem's BN backward).
enum ConvolutionInputGradient: Sendable {
    case none, stored
    /// `consume(part, image, dX, scratch)`: dX of one image (may be overwritten), `scratchCount` floats of the
    /// part's own scratch. Parts are those of `ComputeContext.batchParts`; a part's images come in order.
    case sink(scratchCount: Int,
              consume: @Sendable (_ part: Int, _ image: Int, _ dx: UnsafeMutablePointer<Float>,
                                  _ scratch: UnsafeMutablePointer<Float>) -> Void)
}

extension ConvolutionInputGradient {
    /// Whether dX is computed at all.
    var isWanted: Bool {
        if case .none = self { return false }
        return true
    }
    /// The sink's scratch floats per part (0 unless a sink).
    var sinkScratchCount: Int {
        if case let .sink(count, _) = self { return count }
        return 0
    }
    /// Runs `body` with where dX goes: a new array of `count` floats when dX is stored (returned, every element
    /// written by `body`), nil otherwise (nothing returned).
    func withStorage(count: Int, _ body: (SendablePointer<Float>?) -> Void) -> [Float]? {
        guard case .stored = self else {
            body(nil)
            return nil
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialised in
            body(SendablePointer(buffer.baseAddress!))
            initialised = count
        }
    }
    /// The sink's consumer (nil unless a sink).
    var consumer: (@Sendable (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void)? {
        if case let .sink(_, body) = self { return body }
        return nil
    }
}

// MARK: - Batched forward / backward

/// y[B×P×Q×O] = conv(x[B×H×W×C], w[O×C×k×k]). Layers with at most `directLimit` columns (default
/// `ConvolutionGeometry.directColumnLimit`) use the direct SIMD kernel instead of sgemm.
func convolutionForward(input x: [Float], batch B: Int, geometry g: ConvolutionGeometry,
                        weight w: [Float], threads: Int,
                        directLimit: Int = ConvolutionGeometry.directColumnLimit,
                        pixelClasses: Bool = true, implicit: Bool = true) -> [Float] {
    x.withUnsafeBufferPointer { xBuf in
        convolutionForward(source: .stored(SendablePointer(xBuf.baseAddress!), imageSize: g.inputSize), batch: B,
                           geometry: g, weight: w, threads: threads, directLimit: directLimit,
                           pixelClasses: pixelClasses, implicit: implicit)
    }
}

/// The forward pass reading its images from `source`. With `pixelClasses` (default) a layer whose padding wastes
/// enough work runs by pixel classes (ConvolutionPixelClasses.swift); with `implicit` (default) a thin layer runs
/// by implicit GEMM (ImplicitConvolution.swift); the rest by im2col + sgemm.
func convolutionForward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry,
                        weight w: [Float], threads: Int,
                        directLimit: Int = ConvolutionGeometry.directColumnLimit,
                        pixelClasses: Bool = true, implicit: Bool = true) -> [Float] {
    if B == 0 { return [] }
    let parts = ComputeContext.parts(batch: B)
    let K = g.columnCount, L = g.outputPixels, O = g.outputChannels
    let wk = permuteWeightToColumns(w, g, threads: threads)
    if K <= directLimit {
        return directConvolutionForward(source: source, batch: B, geometry: g, weightColumns: wk, threads: threads)
    }
    if pixelClasses, let plan = PixelClassPlan(g, partSize: ComputeContext.largestPart(batch: B)) {
        return classedConvolutionForward(source: source, batch: B, geometry: g, weightColumns: wk, plan: plan,
                                         threads: threads)
    }
    // Work items: every GEMM group of every part, in order. Forward has no per-part accumulator, so the threads
    // take single groups (shape-only groups, hence the same bytes for any thread count): a finer tail than parts.
    let items = (0..<parts).flatMap { part in
        let range = ComputeContext.partRange(part, batch: B), groups = g.gemmGroups(partSize: range.count)
        return (0..<groups).map { group in
            let local = partRange(group, of: groups, count: range.count)
            return (range.lowerBound + local.lowerBound)..<(range.lowerBound + local.upperBound)
        }
    }
    if implicit && ImplicitConvolution.applies(to: g) {
        return implicitConvolutionForward(source: source, batch: B, geometry: g, weightColumns: wk, items: items,
                                          threads: threads)
    }
    return [Float](unsafeUninitializedCapacity: B * g.outputSize) { yBuf, initialised in
        let y = SendablePointer(yBuf.baseAddress!)
        wk.withUnsafeBufferPointer { wBuf in
            let wp = SendablePointer(wBuf.baseAddress!)
            let n = items.map(\.count).max() ?? 0
            items.withUnsafeBufferPointer { itemBuffer in
                let ip = SendableConstPointer(itemBuffer)
                parallelFor(itemBuffer.count, threads: threads, scratch: n * L * K + source.scratchCount,
                            of: Float.self) { item, col in
                    let images = ip.base[item], first = images.lowerBound, m = images.count
                    let scratch = col + n * L * K
                    for j in 0..<m { im2col(source.image(first + j, scratch), g, col + j * L * K) }
                    sgemm(.none, .transposed, m: m * L, n: O, k: K, a: col, lda: K, b: wp.base, ldb: K,
                          c: y.base + first * g.outputSize, ldc: O)
                }
            }
        }
        initialised = B * g.outputSize
    }
}

/// Gradients of the convolution: dW[O×C×k×k] and, when asked, dX[B×H×W×C], from x and dY[B×P×Q×O].
/// Layers with at most `directLimit` columns compute dW with the direct SIMD kernel (dX still via sgemm).
func convolutionBackward(input x: [Float], batch B: Int, geometry g: ConvolutionGeometry, weight w: [Float],
                         dOutput dy: [Float], computeInputGradient: Bool, threads: Int,
                         directLimit: Int = ConvolutionGeometry.directColumnLimit,
                         pixelClasses: Bool = true, implicit: Bool = true) -> (dInput: [Float]?, dWeight: [Float]) {
    x.withUnsafeBufferPointer { xBuf in
        dy.withUnsafeBufferPointer { dyBuf in
            convolutionBackward(source: .stored(SendablePointer(xBuf.baseAddress!), imageSize: g.inputSize), batch: B,
                                geometry: g, weight: w, dOutput: .stored(SendablePointer(UnsafeMutableBufferPointer(mutating: dyBuf))),
                                inputGradient: computeInputGradient ? .stored : .none, threads: threads,
                                directLimit: directLimit, pixelClasses: pixelClasses, implicit: implicit)
        }
    }
}

/// The backward pass reading its images from `source`; dX is dropped, stored (returned) or handed to a sink.
/// With `pixelClasses` (default) a layer whose padding wastes enough work runs by pixel classes; with `implicit`
/// (default) a thin layer's dX is computed by implicit GEMM (ImplicitConvolution.swift) instead of dcol + col2im.
func convolutionBackward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry, weight w: [Float],
                         dOutput dy: ConvolutionOutputGradient, inputGradient: ConvolutionInputGradient, threads: Int,
                         directLimit: Int = ConvolutionGeometry.directColumnLimit,
                         pixelClasses: Bool = true, implicit: Bool = true) -> (dInput: [Float]?, dWeight: [Float]) {
    if B == 0 {   // an empty batch: no dX images and a zero weight gradient
        if case .stored = inputGradient { return ([], [Float](repeating: 0, count: w.count)) }
        return (nil, [Float](repeating: 0, count: w.count))
    }
    let parts = ComputeContext.parts(batch: B)
    let K = g.columnCount, L = g.outputPixels, O = g.outputChannels
    let wk = permuteWeightToColumns(w, g, threads: threads)
    let direct = K <= directLimit
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: parts * O * K)
    defer { partials.deallocate() }
    let pp = SendablePointer(partials)
    let sinkScratch = inputGradient.sinkScratchCount, consume = inputGradient.consumer
    let wantsInputGradient = inputGradient.isWanted
    // dX by implicit GEMM (ImplicitConvolution.swift) for the thin layers, else dcol = dY·W and col2im.
    let gradientPlan = wantsInputGradient && implicit && !direct && ImplicitConvolution.appliesToInputGradient(g)
        ? ImplicitGradientPlan(g) : nil
    let body = { @Sendable (wp: SendablePointer<Float>, dxp: SendablePointer<Float>?) in
        parallelFor(parts, threads: threads) { part in
            let range = ComputeContext.partRange(part, batch: B)
            let groups = g.gemmGroups(partSize: range.count)
            let n = (range.count + groups - 1) / groups
            // One block per part: col, dcol (when dX is wanted by GEMM), the source's scratch, dY when it is formed
            // on demand, for a sink the group's dX images (one image by GEMM: col2im goes image by image) plus the
            // sink's scratch, and O zeros for the implicit dX.
            let dcolCount = wantsInputGradient && gradientPlan == nil ? n * L * K : 0
            let dyCount = dy.scratchCount(rows: n * L, outputs: O)
            let sinkImages = gradientPlan == nil ? 1 : n
            let imageCount = consume == nil ? 0 : sinkImages * g.inputSize + sinkScratch
            let zerosCount = gradientPlan == nil ? 0 : O
            let block = UnsafeMutablePointer<Float>.allocate(
                capacity: n * L * K + dcolCount + source.scratchCount + dyCount + imageCount + zerosCount)
            let dxImages = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: n)
            defer { block.deallocate(); dxImages.deallocate() }
            let col = block, dcol = block + n * L * K, scratch = dcol + dcolCount, dyScratch = scratch + source.scratchCount
            let dxImage = dyScratch + dyCount, consumerScratch = dxImage + sinkImages * g.inputSize
            let zeros = dxImage + imageCount
            zeros.update(repeating: 0, count: zerosCount)
            let dW = pp.base + part * O * K
            for group in 0..<groups {
                let local = partRange(group, of: groups, count: range.count)
                let first = range.lowerBound + local.lowerBound, m = local.count, N = m * L
                for j in 0..<m { im2col(source.image(first + j, scratch), g, col + j * L * K) }
                let dyGroup = dy.rows((first * L)..<((first + m) * L), outputs: O, scratch: dyScratch)
                if direct {
                    directWeightGradient(column: col, dOutput: dyGroup, rows: N, columns: K, outputs: O,
                                         accumulate: group > 0, into: dW)
                } else {
                    sgemm(.transposed, .none, m: O, n: K, k: N, a: dyGroup, lda: O, b: col, ldb: K,
                          beta: group == 0 ? 0 : 1, c: dW, ldc: K)
                }
                guard wantsInputGradient else { continue }
                if let gradientPlan {
                    for j in 0..<m { dxImages[j] = dxp.map { $0.base + (first + j) * g.inputSize } ?? (dxImage + j * g.inputSize) }
                    implicitInputGradient(dOutput: dyGroup, count: m, g, plan: gradientPlan, weightColumns: wp.base,
                                          zeros: zeros, images: dxImages)
                    if let consume { for j in 0..<m { consume(part, first + j, dxImages[j], consumerScratch) } }
                    continue
                }
                sgemm(.none, .none, m: N, n: K, k: O, a: dyGroup, lda: O, b: wp.base, ldb: K, c: dcol, ldc: K)
                for j in 0..<m {
                    let image = dxp.map { $0.base + (first + j) * g.inputSize } ?? dxImage
                    image.update(repeating: 0, count: g.inputSize)
                    col2im(dcol + j * L * K, g, image)
                    consume?(part, first + j, image, consumerScratch)
                }
            }
        }
    }
    var dx: [Float]? = nil
    if !direct, pixelClasses, let plan = PixelClassPlan(g, partSize: ComputeContext.largestPart(batch: B)) {
        dx = classedConvolutionBackward(source: source, batch: B, geometry: g, weightColumns: wk, plan: plan,
                                        dOutput: dy, inputGradient: inputGradient, threads: threads, partials: pp)
    } else {
        wk.withUnsafeBufferPointer { wBuf in
            let wp = SendablePointer(wBuf.baseAddress!)
            dx = inputGradient.withStorage(count: B * g.inputSize) { body(wp, $0) }
        }
    }
    // Sum the per-part weight gradients in part order (element by element), back in PyTorch order.
    return (dx, summedWeightColumns(pp, parts: parts, g, threads: threads))
}

// MARK: - Direct kernels for thin layers (K ≤ directColumnLimit)

/// Forward of a thin layer: per image, im2col into a small buffer, then y[l, o] = Σ_k col[l, k]·Wᵀ[k, o] with
/// SIMD16 over the outputs and 4 rows at a time (independent FMA chains). Summation order is fixed: k ascending.
func directConvolutionForward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry,
                              weightColumns wk: [Float], threads: Int) -> [Float] {
    let parts = ComputeContext.parts(batch: B)
    let K = g.columnCount, L = g.outputPixels
    let wt = transposedWeightColumns(wk, g)
    return [Float](unsafeUninitializedCapacity: B * g.outputSize) { yBuf, initialised in
        let y = SendablePointer(yBuf.baseAddress!)
        wt.withUnsafeBufferPointer { wBuf in
            let wp = SendablePointer(wBuf.baseAddress!)
            parallelFor(parts, threads: threads) { part in
                let col = UnsafeMutablePointer<Float>.allocate(capacity: L * K + source.scratchCount)
                defer { col.deallocate() }
                for image in ComputeContext.partRange(part, batch: B) {
                    directConvolution(source.image(image, col + L * K), g, weightTransposed: wp.base, column: col,
                                      into: y.base + image * g.outputSize)
                }
            }
        }
        initialised = B * g.outputSize
    }
}

/// Wᵀ (K×O) of the O×K weight columns: the layout of the direct kernels.
func transposedWeightColumns(_ wk: [Float], _ g: ConvolutionGeometry) -> [Float] {
    let K = g.columnCount, O = g.outputChannels
    var wt = [Float](repeating: 0, count: K * O)
    for o in 0..<O { for k in 0..<K { wt[k * O + o] = wk[o * K + k] } }
    return wt
}

/// One image of a thin layer: im2col into `col` (L×K), then y[L×O] = col·Wᵀ.
@inline(__always)
func directConvolution(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, weightTransposed wt: UnsafePointer<Float>,
                       column col: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    im2col(x, g, col)
    directProduct(col, rows: g.outputPixels, columns: g.columnCount, weightTransposed: wt, outputs: g.outputChannels,
                  into: y)
}

/// out[L×O] = col[L×K] · wt[K×O].
@inline(__always)
func directProduct(_ col: UnsafePointer<Float>, rows L: Int, columns K: Int, weightTransposed wt: UnsafePointer<Float>,
                   outputs O: Int, into out: UnsafeMutablePointer<Float>) {
    directProduct(rows: L, columns: K, row: { col + $0 * K }, element: { $0[$1] }, weightTransposed: wt, outputs: O,
                  into: out)
}

/// out[L×O] = A·wt[K×O] where A[l, k] = element(row(l), k): a column matrix (row(l) = col + l·K, element = [k]),
/// or the same matrix read straight from a zero-padded image (FusedStem.swift). SIMD16 over the outputs and 4 rows
/// at a time (independent FMA chains); the summation order is fixed, k ascending, so both readings give the same
/// bits.
@inline(__always)
func directProduct(rows L: Int, columns K: Int, row: (Int) -> UnsafePointer<Float>,
                   element: (UnsafePointer<Float>, Int) -> Float, weightTransposed wt: UnsafePointer<Float>,
                   outputs O: Int, into out: UnsafeMutablePointer<Float>) {
    let w = UnsafeRawPointer(wt), o16 = O / 16 * 16
    var l = 0
    while l + 4 <= L {
        let c0 = row(l), c1 = row(l + 1), c2 = row(l + 2), c3 = row(l + 3)
        var o = 0
        while o < o16 {
            var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
            for k in 0..<K {
                let v = w.loadUnaligned(fromByteOffset: 4 * (k * O + o), as: SIMD16<Float>.self)
                a0.addProduct(SIMD16(repeating: element(c0, k)), v)
                a1.addProduct(SIMD16(repeating: element(c1, k)), v)
                a2.addProduct(SIMD16(repeating: element(c2, k)), v)
                a3.addProduct(SIMD16(repeating: element(c3, k)), v)
            }
            let r = UnsafeMutableRawPointer(out + l * O)
            r.storeBytes(of: a0, toByteOffset: 4 * o, as: SIMD16<Float>.self)
            r.storeBytes(of: a1, toByteOffset: 4 * (O + o), as: SIMD16<Float>.self)
            r.storeBytes(of: a2, toByteOffset: 4 * (2 * O + o), as: SIMD16<Float>.self)
            r.storeBytes(of: a3, toByteOffset: 4 * (3 * O + o), as: SIMD16<Float>.self)
            o += 16
        }
        for r in l..<(l + 4) { directProductTail(row(r), element, K, wt, O, from: o16, into: out + r * O) }
        l += 4
    }
    while l < L {
        let c = row(l)
        var o = 0
        while o < o16 {
            var a = SIMD16<Float>()
            for k in 0..<K {
                a.addProduct(SIMD16(repeating: element(c, k)),
                             w.loadUnaligned(fromByteOffset: 4 * (k * O + o), as: SIMD16<Float>.self))
            }
            UnsafeMutableRawPointer(out + l * O).storeBytes(of: a, toByteOffset: 4 * o, as: SIMD16<Float>.self)
            o += 16
        }
        directProductTail(c, element, K, wt, O, from: o16, into: out + l * O)
        l += 1
    }
}

/// The outputs o ≥ `from` of one row (O not a multiple of 16), scalar with the same k order.
@inline(__always)
func directProductTail(_ row: UnsafePointer<Float>, _ element: (UnsafePointer<Float>, Int) -> Float, _ K: Int,
                       _ wt: UnsafePointer<Float>, _ O: Int, from start: Int, into out: UnsafeMutablePointer<Float>) {
    for o in start..<O {
        var a: Float = 0
        for k in 0..<K { a.addProduct(element(row, k), wt[k * O + o]) }
        out[o] = a
    }
}

/// dW[O×K] (+)= dYᵀ[O×N]·col[N×K] for a thin layer. Rows go in blocks of `rowBlock` (the block of dY and col
/// stays in L1); within a block, Σ col[r, k]·dY[r, :] runs with SIMD16 over the outputs (see the overload below);
/// block sums are added to a K×O accumulator in block order.
func directWeightGradient(column col: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, rows N: Int,
                          columns K: Int, outputs O: Int, accumulate: Bool, into dW: UnsafeMutablePointer<Float>) {
    let acc = UnsafeMutablePointer<Float>.allocate(capacity: K * O)
    defer { acc.deallocate() }
    directWeightGradient(column: col, dOutput: dy, rows: N, columns: K, outputs: O, accumulate: accumulate, into: dW,
                         scratch: acc)
}

/// `directWeightGradient` with the caller's scratch of K·O floats (no allocation per call). Outputs in blocks of 32
/// take two columns at a time: each row's 32 dY values are loaded once for both (6 loads per 8 FMAs instead of 3 per
/// 2), and the 8 accumulators are independent chains. Other outputs: per column k, SIMD16 over 16 outputs with 4
/// interleaved partial sums (rows r mod 4), then a scalar tail. Both sum a block's rows in a fixed order.
func directWeightGradient(column col: UnsafePointer<Float>, dOutput dy: UnsafePointer<Float>, rows N: Int,
                          columns K: Int, outputs O: Int, accumulate: Bool, into dW: UnsafeMutablePointer<Float>,
                          scratch acc: UnsafeMutablePointer<Float>) {
    let rowBlock = 64
    let d = UnsafeRawPointer(dy), o32 = O / 32 * 32, o16 = O / 16 * 16
    acc.initialize(repeating: 0, count: K * O)    // K×O
    let a = UnsafeMutableRawPointer(acc)
    @inline(__always) func add(_ v: SIMD16<Float>, _ k: Int, _ o: Int) {
        let previous = a.loadUnaligned(fromByteOffset: 4 * (k * O + o), as: SIMD16<Float>.self)
        a.storeBytes(of: previous + v, toByteOffset: 4 * (k * O + o), as: SIMD16<Float>.self)
    }
    var start = 0
    while start < N {
        let end = min(N, start + rowBlock)
        var o = 0
        while o < o32 {
            var k = 0
            while k + 2 <= K {
                var a00 = SIMD16<Float>(), a01 = a00, a10 = a00, a11 = a00
                for r in start..<end {
                    let d0 = d.loadUnaligned(fromByteOffset: 4 * (r * O + o), as: SIMD16<Float>.self)
                    let d1 = d.loadUnaligned(fromByteOffset: 4 * (r * O + o + 16), as: SIMD16<Float>.self)
                    let b0 = SIMD16(repeating: col[r * K + k]), b1 = SIMD16(repeating: col[r * K + k + 1])
                    a00.addProduct(b0, d0); a01.addProduct(b0, d1)
                    a10.addProduct(b1, d0); a11.addProduct(b1, d1)
                }
                add(a00, k, o); add(a01, k, o + 16); add(a10, k + 1, o); add(a11, k + 1, o + 16)
                k += 2
            }
            if k < K {
                var a0 = SIMD16<Float>(), a1 = a0
                for r in start..<end {
                    let b = SIMD16(repeating: col[r * K + k])
                    a0.addProduct(b, d.loadUnaligned(fromByteOffset: 4 * (r * O + o), as: SIMD16<Float>.self))
                    a1.addProduct(b, d.loadUnaligned(fromByteOffset: 4 * (r * O + o + 16), as: SIMD16<Float>.self))
                }
                add(a0, k, o); add(a1, k, o + 16)
            }
            o += 32
        }
        for k in 0..<K {
            var o = o32
            while o < o16 {
                var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
                var r = start
                while r + 4 <= end {
                    a0.addProduct(SIMD16(repeating: col[r * K + k]), d.loadUnaligned(fromByteOffset: 4 * (r * O + o), as: SIMD16<Float>.self))
                    a1.addProduct(SIMD16(repeating: col[(r + 1) * K + k]), d.loadUnaligned(fromByteOffset: 4 * ((r + 1) * O + o), as: SIMD16<Float>.self))
                    a2.addProduct(SIMD16(repeating: col[(r + 2) * K + k]), d.loadUnaligned(fromByteOffset: 4 * ((r + 2) * O + o), as: SIMD16<Float>.self))
                    a3.addProduct(SIMD16(repeating: col[(r + 3) * K + k]), d.loadUnaligned(fromByteOffset: 4 * ((r + 3) * O + o), as: SIMD16<Float>.self))
                    r += 4
                }
                while r < end {
                    a0.addProduct(SIMD16(repeating: col[r * K + k]), d.loadUnaligned(fromByteOffset: 4 * (r * O + o), as: SIMD16<Float>.self))
                    r += 1
                }
                add((a0 + a1) + (a2 + a3), k, o)
                o += 16
            }
            for o in o16..<O {
                var s: Float = 0
                for r in start..<end { s.addProduct(col[r * K + k], dy[r * O + o]) }
                acc[k * O + o] += s
            }
        }
        start = end
    }
    for o in 0..<O {
        for k in 0..<K { dW[o * K + k] = accumulate ? dW[o * K + k] + acc[k * O + o] : acc[k * O + o] }
    }
}
