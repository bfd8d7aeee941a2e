// Convolution kernels: im2col / col2im and the batched im2col + sgemm forward and backward passes.
// The batch is split into `ComputeContext.batchParts` parts (fixed); each part runs its images in groups of
// `imagesPerGEMM` through one im2col + one sgemm, and its weight gradient goes to its own partial buffer;
// partials are summed in part order. So the bytes never depend on the thread count.
// Deliberately not here: dilation, groups, bias (the encoders have none), Winograd/FFT.
//
// Legend: B = batch, C = input channels, H×W = input size, O = output channels, P×Q = output size,
// k = kernel size (square), K = C·k·k (rows of the column matrix), L = P·Q (output pixels per image),
// n = images in one GEMM group, N = n·L (columns of the column matrix).

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

    /// Rows of the column matrix: C·k·k.
    @inlinable public var columnRows: Int { inputChannels * kernelSize * kernelSize }
    /// Output pixels per image: P·Q.
    @inlinable public var outputPixels: Int { outputHeight * outputWidth }
    /// Elements of one input image: C·H·W.
    @inlinable public var inputSize: Int { inputChannels * inputHeight * inputWidth }
    /// Elements of one output image: O·P·Q.
    @inlinable public var outputSize: Int { outputChannels * outputPixels }
    /// Multiply-adds per image of the forward pass.
    @inlinable public var multiplyAddsPerImage: Int { outputChannels * columnRows * outputPixels }

    /// Images per im2col + sgemm group: enough columns for an efficient GEMM, at most the part size.
    /// Depends only on shapes (never on threads), which keeps results bit-identical.
    func imagesPerGEMM(partSize: Int) -> Int {
        max(1, min(partSize, Self.targetColumns / max(1, outputPixels)))
    }
    static let targetColumns = 1024
}

// MARK: - im2col / col2im (one image)

/// The output columns q whose input column q·s − pad + kj lies inside [0, W), as a half-open range.
@inline(__always)
func validColumns(_ kj: Int, W: Int, Q: Int, stride s: Int, padding pad: Int) -> (Int, Int) {
    let lowNumerator = pad - kj, highNumerator = W - 1 + pad - kj
    let lo = lowNumerator <= 0 ? 0 : (lowNumerator + s - 1) / s
    let hi = highNumerator < 0 ? 0 : min(Q, highNumerator / s + 1)
    return (min(lo, Q), max(hi, min(lo, Q)))
}

/// Writes the column matrix of one image: col[r, j] for r = (c·k + i)·k + j', j = p·Q + q, at row stride `ldc`.
/// Padding positions get 0.
@inline(__always)
func im2col(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, _ col: UnsafeMutablePointer<Float>, ldc: Int) {
    let H = g.inputHeight, W = g.inputWidth, k = g.kernelSize, s = g.stride, pad = g.padding
    let P = g.outputHeight, Q = g.outputWidth
    for c in 0..<g.inputChannels {
        let plane = x + c * H * W
        for ki in 0..<k {
            for kj in 0..<k {
                let dst = col + ((c * k + ki) * k + kj) * ldc
                let (qLo, qHi) = validColumns(kj, W: W, Q: Q, stride: s, padding: pad)
                for p in 0..<P {
                    let ih = p * s - pad + ki
                    let out = dst + p * Q
                    if ih < 0 || ih >= H || qLo >= qHi {
                        out.update(repeating: 0, count: Q)
                        continue
                    }
                    let row = plane + ih * W - pad + kj
                    for q in 0..<qLo { out[q] = 0 }
                    if s == 1 {
                        (out + qLo).update(from: row + qLo, count: qHi - qLo)
                    } else {
                        for q in qLo..<qHi { out[q] = row[q * s] }
                    }
                    for q in qHi..<Q { out[q] = 0 }
                }
            }
        }
    }
}

/// Adds the column-matrix gradient of one image back onto its input gradient (`dx` must be initialised).
@inline(__always)
func col2im(_ dcol: UnsafePointer<Float>, ldc: Int, _ g: ConvolutionGeometry, _ dx: UnsafeMutablePointer<Float>) {
    let H = g.inputHeight, W = g.inputWidth, k = g.kernelSize, s = g.stride, pad = g.padding
    let P = g.outputHeight, Q = g.outputWidth
    for c in 0..<g.inputChannels {
        let plane = dx + c * H * W
        for ki in 0..<k {
            for kj in 0..<k {
                let src = dcol + ((c * k + ki) * k + kj) * ldc
                let (qLo, qHi) = validColumns(kj, W: W, Q: Q, stride: s, padding: pad)
                if qLo >= qHi { continue }
                for p in 0..<P {
                    let ih = p * s - pad + ki
                    if ih < 0 || ih >= H { continue }
                    let row = plane + ih * W - pad + kj
                    let from = src + p * Q
                    if s == 1 {
                        for q in qLo..<qHi { row[q] += from[q] }
                    } else {
                        for q in qLo..<qHi { row[q * s] += from[q] }
                    }
                }
            }
        }
    }
}

// MARK: - Batched forward / backward

/// y[B×O×P×Q] = conv(x[B×C×H×W], w[O×C×k×k]).
func convolutionForward(input x: [Float], batch B: Int, geometry g: ConvolutionGeometry,
                        weight w: [Float], threads: Int) -> [Float] {
    let parts = min(ComputeContext.batchParts, B)
    let K = g.columnRows, L = g.outputPixels, O = g.outputChannels
    return [Float](unsafeUninitializedCapacity: B * g.outputSize) { yBuf, initialised in
        let y = SendablePointer(yBuf.baseAddress!)
        x.withUnsafeBufferPointer { xBuf in
            w.withUnsafeBufferPointer { wBuf in
                let xp = SendablePointer(xBuf.baseAddress!), wp = SendablePointer(wBuf.baseAddress!)
                parallelFor(parts, threads: threads) { part in
                    let range = partRange(part, of: parts, count: B)
                    let n = g.imagesPerGEMM(partSize: range.count)
                    let col = UnsafeMutablePointer<Float>.allocate(capacity: K * n * L)
                    let stage = UnsafeMutablePointer<Float>.allocate(capacity: n > 1 ? O * n * L : 1)
                    defer { col.deallocate(); stage.deallocate() }
                    var first = range.lowerBound
                    while first < range.upperBound {
                        let m = min(n, range.upperBound - first), N = m * L
                        for j in 0..<m {
                            im2col(xp.base + (first + j) * g.inputSize, g, col + j * L, ldc: N)
                        }
                        if m == 1 {
                            sgemm(.none, .none, m: O, n: L, k: K, a: wp.base, lda: K, b: col, ldb: L,
                                  c: y.base + first * g.outputSize, ldc: L)
                        } else {
                            sgemm(.none, .none, m: O, n: N, k: K, a: wp.base, lda: K, b: col, ldb: N,
                                  c: stage, ldc: N)
                            // stage is O×(m·L); scatter each image's L-runs into NCHW.
                            for j in 0..<m {
                                let dst = y.base + (first + j) * g.outputSize
                                for o in 0..<O { (dst + o * L).update(from: stage + o * N + j * L, count: L) }
                            }
                        }
                        first += m
                    }
                }
            }
        }
        initialised = B * g.outputSize
    }
}

/// Gradients of the convolution: dW[O×K] and, when asked, dX[B×C×H×W], from the input x and dY[B×O×P×Q].
func convolutionBackward(input x: [Float], batch B: Int, geometry g: ConvolutionGeometry, weight w: [Float],
                         dOutput dy: [Float], computeInputGradient: Bool,
                         threads: Int) -> (dInput: [Float]?, dWeight: [Float]) {
    let parts = min(ComputeContext.batchParts, B)
    let K = g.columnRows, L = g.outputPixels, O = g.outputChannels
    var partials = [Float](repeating: 0, count: parts * O * K)
    var dx: [Float]? = computeInputGradient ? [Float](repeating: 0, count: B * g.inputSize) : nil
    x.withUnsafeBufferPointer { xBuf in
        w.withUnsafeBufferPointer { wBuf in
            dy.withUnsafeBufferPointer { dyBuf in
                partials.withUnsafeMutableBufferPointer { pBuf in
                    let xp = SendablePointer(xBuf.baseAddress!), wp = SendablePointer(wBuf.baseAddress!)
                    let dyp = SendablePointer(dyBuf.baseAddress!), pp = SendablePointer(pBuf.baseAddress!)
                    let run = { @Sendable (dxp: SendablePointer<Float>?) in
                        parallelFor(parts, threads: threads) { part in
                            let range = partRange(part, of: parts, count: B)
                            let n = g.imagesPerGEMM(partSize: range.count)
                            let col = UnsafeMutablePointer<Float>.allocate(capacity: K * n * L)
                            let stage = UnsafeMutablePointer<Float>.allocate(capacity: n > 1 ? O * n * L : 1)
                            let dcol = UnsafeMutablePointer<Float>.allocate(capacity: dxp == nil ? 1 : K * n * L)
                            defer { col.deallocate(); stage.deallocate(); dcol.deallocate() }
                            let dW = pp.base + part * O * K
                            var first = range.lowerBound
                            while first < range.upperBound {
                                let m = min(n, range.upperBound - first), N = m * L
                                for j in 0..<m {
                                    im2col(xp.base + (first + j) * g.inputSize, g, col + j * L, ldc: N)
                                }
                                // dY of the group as O×N (gathered unless it is a single image).
                                let dyGroup: UnsafePointer<Float>
                                if m == 1 {
                                    dyGroup = UnsafePointer(dyp.base + first * g.outputSize)
                                } else {
                                    for j in 0..<m {
                                        let src = dyp.base + (first + j) * g.outputSize
                                        for o in 0..<O { (stage + o * N + j * L).update(from: src + o * L, count: L) }
                                    }
                                    dyGroup = UnsafePointer(stage)
                                }
                                sgemm(.none, .transposed, m: O, n: K, k: N, a: dyGroup, lda: N, b: col, ldb: N,
                                      beta: first == range.lowerBound ? 0 : 1, c: dW, ldc: K)
                                if let dxp {
                                    sgemm(.transposed, .none, m: K, n: N, k: O, a: wp.base, lda: K, b: dyGroup, ldb: N,
                                          c: dcol, ldc: N)
                                    for j in 0..<m {
                                        col2im(dcol + j * L, ldc: N, g, dxp.base + (first + j) * g.inputSize)
                                    }
                                }
                                first += m
                            }
                        }
                    }
                    if dx != nil {
                        dx!.withUnsafeMutableBufferPointer { run(SendablePointer($0.baseAddress!)) }
                    } else {
                        run(nil)
                    }
                }
            }
        }
    }
    // Sum the per-part weight gradients in part order.
    var dW = [Float](partials[0..<(O * K)])
    for part in 1..<max(1, parts) {
        let base = part * O * K
        for i in 0..<(O * K) { dW[i] += partials[base + i] }
    }
    return (dx, dW)
}
