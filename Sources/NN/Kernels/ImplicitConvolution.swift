// Implicit-GEMM convolution forward: the output computed straight from the input images, without a column matrix.
//
// Why: the im2col + sgemm forward writes every image's column matrix (k·k copies of each input pixel), OpenBLAS
// then packs it again and zeroes the output before accumulating (beta = 0). For the thin middle layers those
// passes cost as much as a third of the multiply-adds. Here a register tile of 12 output pixels × 32 output
// channels (24 SIMD16 accumulators) runs over the taps and input channels, broadcasting each pixel's input value
// straight from the image (a tap in the padding reads a row of zeros) against 32 weights of a K×O copy of the
// weights, and stores its 12 × 32 outputs once. Measured single-threaded on the benchmark machine (AVX-512,
// x86-64-v4, 32 images, against im2col + OpenBLAS SkylakeX sgemm): convnet-s conv2 (C 32 → O 64, 28 → 14) 1.26–1.31×
// faster, conv3 (64 → 128, 14 → 7) 1.13×, conv4 (128 → 256, 7 → 4) 0.92× (slower: its 1.2 MB of weights stream from
// L2 for every tile), so layers with more than `maximumInputChannels` input channels keep the GEMM path.
//
// The input gradient of the same layers works the same way (`implicitInputGradient`): input pixels grouped by
// which taps reach them (s² classes for stride s), a tile of 12 such pixels × 32 input channels summing dY rows
// against the weights, each dX element written once: no dcol, no col2im adds, no zeroing of dX first.
//
// Sums run in a fixed order in Float with FMA (forward: taps, then input channels; dX: taps, then outputs), one
// pixel at a time, so no byte depends on the thread count or on the grouping. Deliberately not here: the weight
// gradient (a reduction over pixels: im2col + sgemm), layers with pixel classes (conv4: its padding saving is
// larger).
//
// Legend as in Convolution.swift: K = k·k·C columns (ki, kj, c), L = P·Q output pixels per image, O outputs.
import Parallel

enum ImplicitConvolution {
    /// Output pixels per register tile.
    static let tileRows = 12
    /// Output channels per register tile (two SIMD16 vectors).
    static let tileOutputs = 32
    /// Layers with more input channels keep im2col + sgemm (see the file comment for the measurements).
    static let maximumInputChannels = 64

    /// Whether `g`'s forward pass takes the implicit path: whole 32-output tiles, a thin enough input.
    static func applies(to g: ConvolutionGeometry) -> Bool {
        g.outputChannels % tileOutputs == 0 && g.inputChannels <= maximumInputChannels
    }
}

/// The forward pass of `g` by implicit GEMM; same contract as `convolutionForward(source:…)`. `items` are the
/// batch's image groups (shape-only, as the GEMM path's); `wk` the O×K weight columns.
func implicitConvolutionForward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry,
                                weightColumns wk: [Float], items: [Range<Int>], threads: Int) -> [Float] {
    let O = g.outputChannels, K = g.columnCount, L = g.outputPixels, C = g.inputChannels
    let k = g.kernelSize, taps = k * k, R = ImplicitConvolution.tileRows
    // K×O weights: row (ki, kj, c) holds the O outputs' weights, so a tile reads 32 of them with two loads.
    let wt = transposedWeightColumns(wk, g)
    let n = items.map(\.count).max() ?? 0
    let imageScratch = source.scratchCount
    // Where each output pixel's taps read in an image: tapOffsets[l·taps + t] floats from the image's start, or −1
    // for a tap in the padding. The same for every image, so computed once per call.
    let tapOffsets = implicitTapOffsets(g)
    return [Float](unsafeUninitializedCapacity: B * g.outputSize) { yBuf, initialised in
        let y = SendablePointer(yBuf.baseAddress!)
        wt.withUnsafeBufferPointer { wBuf in
            let wp = SendableConstPointer(wBuf)
            items.withUnsafeBufferPointer { itemBuffer in tapOffsets.withUnsafeBufferPointer { offsetBuffer in
                let ip = SendableConstPointer(itemBuffer), op = SendableConstPointer(offsetBuffer)
                parallelFor(itemBuffer.count, threads: threads, scratch: n * imageScratch + C, of: Float.self) { item, scratch in
                    let first = ip.base[item].lowerBound, m = ip.base[item].count
                    let zeros = scratch + n * imageScratch
                    zeros.update(repeating: 0, count: C)
                    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: n + taps * R + taps) { table in
                    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: R) { outTable in
                        let images = table.baseAddress!, pixels = images + n, weights = pixels + taps * R
                        let outs = outTable.baseAddress!
                        for j in 0..<m { images[j] = source.image(first + j, scratch + j * imageScratch) }
                        let rowsTotal = m * L
                        var r0 = 0
                        while r0 < rowsTotal {
                            let rows = min(R, rowsTotal - r0)
                            for i in 0..<R {
                                // Rows past the end repeat the last pixel (computed, never stored).
                                let r = min(r0 + i, rowsTotal - 1), j = r / L
                                let image = images[j], offsets = op.base + (r - j * L) * taps
                                for t in 0..<taps {
                                    let offset = Int(offsets[t])
                                    pixels[t * R + i] = offset < 0 ? UnsafePointer(zeros) : image + offset
                                }
                            }
                            let out = y.base + (first * L + r0) * O
                            for t in 0..<taps { weights[t] = wp.base + t * C * O }
                            for i in 0..<R { outs[i] = out + i * O }
                            for _ in 0..<(O / ImplicitConvolution.tileOutputs) {
                                implicitTile(pixels, taps: taps, length: C, weights: weights, weightStride: O,
                                             outputs: outs, rows: rows)
                                advanceTile(weights, taps, outs)
                            }
                            r0 += R
                        }
                    }
                    }
                }
            } }
        }
        initialised = B * g.outputSize
    }
}

/// tapOffsets[l·k·k + ki·k + kj]: where tap (ki, kj) of output pixel l reads its C input values, in floats from
/// the image's start, or −1 when the tap falls in the padding.
func implicitTapOffsets(_ g: ConvolutionGeometry) -> [Int32] {
    let Q = g.outputWidth, k = g.kernelSize, H = g.inputHeight, W = g.inputWidth, C = g.inputChannels
    var offsets = [Int32](repeating: -1, count: g.outputPixels * k * k)
    for l in 0..<g.outputPixels {
        let p = l / Q, q = l - p * Q
        for ki in 0..<k {
            let ih = p * g.stride - g.padding + ki
            for kj in 0..<k {
                let iw = q * g.stride - g.padding + kj
                if ih >= 0 && ih < H && iw >= 0 && iw < W { offsets[(l * k + ki) * k + kj] = Int32((ih * W + iw) * C) }
            }
        }
    }
    return offsets
}

/// outputs[i][0..<32] = Σ over taps t and c in 0..<length of pixels[t·tileRows + i][c] · weights[t][c·weightStride + 0..<32],
/// for the first `rows` of the tile's 12 rows; the sum runs over t, then c, in order, one FMA chain per output.
/// Forward: a pixel's taps × input channels against W (K×O); backward: an input pixel's taps × output channels of
/// dY against W (O×K). Written out row by row on purpose: 24 named accumulators + 2 weight vectors stay in the 32
/// AVX-512 registers (an array of SIMD16 would live in memory); `tileRows` must match.
@inline(never)
func implicitTile(_ pixels: UnsafePointer<UnsafePointer<Float>>, taps: Int, length: Int,
                  weights: UnsafePointer<UnsafePointer<Float>>, weightStride: Int,
                  outputs: UnsafePointer<UnsafeMutablePointer<Float>>, rows: Int) {
    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>()
    var a40 = SIMD16<Float>(), a41 = SIMD16<Float>()
    var a50 = SIMD16<Float>(), a51 = SIMD16<Float>()
    var a60 = SIMD16<Float>(), a61 = SIMD16<Float>()
    var a70 = SIMD16<Float>(), a71 = SIMD16<Float>()
    var a80 = SIMD16<Float>(), a81 = SIMD16<Float>()
    var a90 = SIMD16<Float>(), a91 = SIMD16<Float>()
    var a100 = SIMD16<Float>(), a101 = SIMD16<Float>()
    var a110 = SIMD16<Float>(), a111 = SIMD16<Float>()
    for t in 0..<taps {
        let row = pixels + t * ImplicitConvolution.tileRows
        let p0 = row[0]
        let p1 = row[1]
        let p2 = row[2]
        let p3 = row[3]
        let p4 = row[4]
        let p5 = row[5]
        let p6 = row[6]
        let p7 = row[7]
        let p8 = row[8]
        let p9 = row[9]
        let p10 = row[10]
        let p11 = row[11]
        var w = UnsafeRawPointer(weights[t])
        for c in 0..<length {
            let w0 = w.loadUnaligned(as: SIMD16<Float>.self)
            let w1 = w.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let x0 = SIMD16<Float>(repeating: p0[c]); a00.addProduct(x0, w0); a01.addProduct(x0, w1)
            let x1 = SIMD16<Float>(repeating: p1[c]); a10.addProduct(x1, w0); a11.addProduct(x1, w1)
            let x2 = SIMD16<Float>(repeating: p2[c]); a20.addProduct(x2, w0); a21.addProduct(x2, w1)
            let x3 = SIMD16<Float>(repeating: p3[c]); a30.addProduct(x3, w0); a31.addProduct(x3, w1)
            let x4 = SIMD16<Float>(repeating: p4[c]); a40.addProduct(x4, w0); a41.addProduct(x4, w1)
            let x5 = SIMD16<Float>(repeating: p5[c]); a50.addProduct(x5, w0); a51.addProduct(x5, w1)
            let x6 = SIMD16<Float>(repeating: p6[c]); a60.addProduct(x6, w0); a61.addProduct(x6, w1)
            let x7 = SIMD16<Float>(repeating: p7[c]); a70.addProduct(x7, w0); a71.addProduct(x7, w1)
            let x8 = SIMD16<Float>(repeating: p8[c]); a80.addProduct(x8, w0); a81.addProduct(x8, w1)
            let x9 = SIMD16<Float>(repeating: p9[c]); a90.addProduct(x9, w0); a91.addProduct(x9, w1)
            let x10 = SIMD16<Float>(repeating: p10[c]); a100.addProduct(x10, w0); a101.addProduct(x10, w1)
            let x11 = SIMD16<Float>(repeating: p11[c]); a110.addProduct(x11, w0); a111.addProduct(x11, w1)
            w += 4 * weightStride
        }
    }
    @inline(__always) func put(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ i: Int) {
        let row = UnsafeMutableRawPointer(outputs[i])
        row.storeBytes(of: v0, as: SIMD16<Float>.self)
        row.storeBytes(of: v1, toByteOffset: 64, as: SIMD16<Float>.self)
    }
    if rows > 0 { put(a00, a01, 0) }
    if rows > 1 { put(a10, a11, 1) }
    if rows > 2 { put(a20, a21, 2) }
    if rows > 3 { put(a30, a31, 3) }
    if rows > 4 { put(a40, a41, 4) }
    if rows > 5 { put(a50, a51, 5) }
    if rows > 6 { put(a60, a61, 6) }
    if rows > 7 { put(a70, a71, 7) }
    if rows > 8 { put(a80, a81, 8) }
    if rows > 9 { put(a90, a91, 9) }
    if rows > 10 { put(a100, a101, 10) }
    if rows > 11 { put(a110, a111, 11) }
}

/// Moves a tile's weight and output pointers on to the next 32 outputs (forward) or input channels (dX).
@inline(__always)
func advanceTile(_ weights: UnsafeMutablePointer<UnsafePointer<Float>>, _ taps: Int,
                 _ outputs: UnsafeMutablePointer<UnsafeMutablePointer<Float>>) {
    for t in 0..<taps { weights[t] += ImplicitConvolution.tileOutputs }
    for i in 0..<ImplicitConvolution.tileRows { outputs[i] += ImplicitConvolution.tileOutputs }
}

// MARK: - Input gradient

extension ImplicitConvolution {
    /// Whether `g`'s backward pass computes dX by implicit GEMM: the forward's layers (see `applies(to:)`) whose
    /// input channels fill whole 32-channel tiles.
    static func appliesToInputGradient(_ g: ConvolutionGeometry) -> Bool {
        applies(to: g) && g.inputChannels % tileOutputs == 0
    }
}

/// The input pixels of a convolution grouped by which kernel taps reach them. With stride s, input pixel (ih, iw)
/// receives dY of output (oh, ow) through tap (ki, kj) when ih + pad − ki = s·oh and iw + pad − kj = s·ow: which
/// taps can do so depends only on (ih mod s, iw mod s), so there are s² classes; at the borders a tap's output pixel
/// can fall outside dY (it then reads a row of zeros).
struct ImplicitGradientPlan: Sendable {
    struct PixelClass: Sendable {
        /// Tap indices ki·k + kj, ascending (the order of the sums).
        let taps: [Int]
        /// Input pixels ih·W + iw, ascending.
        let pixels: [Int32]
        /// sources[i·taps.count + t]: the output pixel oh·Q + ow that tap t of pixel i reads, or −1 (outside dY).
        let sources: [Int32]
    }
    let classes: [PixelClass]

    init(_ g: ConvolutionGeometry) {
        let k = g.kernelSize, s = g.stride, pad = g.padding, H = g.inputHeight, W = g.inputWidth
        let P = g.outputHeight, Q = g.outputWidth
        func reaches(_ residue: Int, _ kernelIndex: Int) -> Bool { ((residue + pad - kernelIndex) % s + s) % s == 0 }
        var classes: [PixelClass] = []
        for ry in 0..<min(s, H) {
            for rx in 0..<min(s, W) {
                let kis = (0..<k).filter { reaches(ry, $0) }, kjs = (0..<k).filter { reaches(rx, $0) }
                let taps = kis.flatMap { ki in kjs.map { kj in ki * k + kj } }
                var pixels: [Int32] = [], sources: [Int32] = []
                for ih in stride(from: ry, to: H, by: s) {
                    for iw in stride(from: rx, to: W, by: s) {
                        pixels.append(Int32(ih * W + iw))
                        for tap in taps {
                            // s·oh = ih + pad − ki (a multiple of s in this class); likewise for the column.
                            let sh = ih + pad - tap / k, sw = iw + pad - tap % k
                            let inside = sh >= 0 && sw >= 0 && sh / s < P && sw / s < Q
                            sources.append(inside ? Int32(sh / s * Q + sw / s) : -1)
                        }
                    }
                }
                classes.append(PixelClass(taps: taps, pixels: pixels, sources: sources))
            }
        }
        self.classes = classes
    }
}

/// dX of `m` images by implicit GEMM: dx(j)[pixel, c] = Σ over the pixel's taps (ascending), then the outputs o
/// (ascending), of dY_j[source, o] · W[o, tap, c], one FMA chain per element; every element of the m images is
/// written (no zeroing first). `dy`: the m images' L·O rows of dY; `wk`: the O×K weight columns; `zeros`: O zeros.
func implicitInputGradient(dOutput dy: UnsafePointer<Float>, count m: Int, _ g: ConvolutionGeometry,
                           plan: ImplicitGradientPlan, weightColumns wk: UnsafePointer<Float>,
                           zeros: UnsafePointer<Float>, images dx: UnsafePointer<UnsafeMutablePointer<Float>>) {
    let O = g.outputChannels, K = g.columnCount, L = g.outputPixels, C = g.inputChannels
    let R = ImplicitConvolution.tileRows, maximumTaps = g.kernelSize * g.kernelSize
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: maximumTaps * R + maximumTaps) { table in
    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: R) { outTable in
        let rowsOfTaps = table.baseAddress!, weights = rowsOfTaps + maximumTaps * R, outs = outTable.baseAddress!
        for cls in plan.classes {
            let np = cls.pixels.count, T = cls.taps.count, total = m * np
            if T == 0 {   // no tap reaches these pixels: their gradient is zero
                for j in 0..<m { for pixel in cls.pixels { (dx[j] + Int(pixel) * C).update(repeating: 0, count: C) } }
                continue
            }
            var r0 = 0
            while r0 < total {
                let rows = min(R, total - r0)
                for i in 0..<R {
                    // Rows past the end repeat the last pixel (computed, never stored).
                    let r = min(r0 + i, total - 1), j = r / np, pi = r - j * np
                    for t in 0..<T {
                        let source = Int(cls.sources[pi * T + t])
                        rowsOfTaps[t * R + i] = source < 0 ? zeros : dy + (j * L + source) * O
                    }
                }
                for t in 0..<T { weights[t] = wk + cls.taps[t] * C }
                for i in 0..<R {
                    let r = min(r0 + i, total - 1), j = r / np
                    outs[i] = dx[j] + Int(cls.pixels[r - j * np]) * C
                }
                for _ in 0..<(C / ImplicitConvolution.tileOutputs) {
                    implicitTile(rowsOfTaps, taps: T, length: O, weights: weights, weightStride: K, outputs: outs,
                                 rows: rows)
                    advanceTile(weights, T, outs)
                }
                r0 += R
            }
        }
    }
    }
}
