// Plain Double twins of every layer (obviously-correct loops, no BLAS, no pointers), central finite
// differences, and the tolerance check the tests share.
//
// Tolerance: an analytic Float gradient passes when max_i |a_i − r_i| ≤ tol · max_i |r_i|, i.e. relative to
// the largest reference entry (Float rounding is relative to the magnitudes involved, not to each entry).
import Testing
import SeededRandom
@testable import NN

func randomArray(_ count: Int, _ g: inout SeededGenerator, scale: Double = 1) -> [Double] {
    (0..<count).map { _ in scale * g.normal() }
}

func floats(_ a: [Double]) -> [Float] { a.map { Float($0) } }
func doubles(_ a: [Float]) -> [Double] { a.map { Double($0) } }

/// Largest |a − r| relative to the largest |r|.
func relativeError(_ a: [Float], _ r: [Double]) -> Double {
    precondition(a.count == r.count, "relativeError: \(a.count) vs \(r.count) elements")
    var worst = 0.0, scale = 1e-30
    for i in 0..<r.count { worst = max(worst, abs(Double(a[i]) - r[i])); scale = max(scale, abs(r[i])) }
    return worst / scale
}

func expectClose(_ a: [Float], _ r: [Double], tolerance: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let e = relativeError(a, r)
    #expect(e <= tolerance, "\(what): relative error \(e) > \(tolerance)", sourceLocation: sourceLocation)
}

/// Central differences of `f` at `x` for the coordinates in `indices` (default all), step h.
func numericGradient(_ x: [Double], indices: [Int]? = nil, h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var grad = [Double](repeating: 0, count: x.count)
    var probe = x
    for i in indices ?? Array(0..<x.count) {
        let old = probe[i]
        probe[i] = old + h; let up = f(probe)
        probe[i] = old - h; let down = f(probe)
        probe[i] = old
        grad[i] = (up - down) / (2 * h)
    }
    return grad
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

// MARK: - Layer twins

/// Direct convolution on channels-last images: y[b,p,q,o] = Σ_c,i,j w[o,c,i,j]·x[b, p·s−pad+i, q·s−pad+j, c]
/// (w in PyTorch's O×C×k×k order).
func referenceConvolution(_ x: [Double], batch B: Int, _ g: ConvolutionGeometry, weight w: [Double]) -> [Double] {
    let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, O = g.outputChannels, k = g.kernelSize
    let P = g.outputHeight, Q = g.outputWidth
    var y = [Double](repeating: 0, count: B * O * P * Q)
    for b in 0..<B { for o in 0..<O { for p in 0..<P { for q in 0..<Q {
        var s = 0.0
        for c in 0..<C { for i in 0..<k { for j in 0..<k {
            let ih = p * g.stride - g.padding + i, iw = q * g.stride - g.padding + j
            if ih >= 0 && ih < H && iw >= 0 && iw < W {
                s += w[((o * C + c) * k + i) * k + j] * x[((b * H + ih) * W + iw) * C + c]
            }
        }}}
        y[((b * P + p) * Q + q) * O + o] = s
    }}}}
    return y
}

/// The L×K column matrix of one channels-last image, straight from the definition: row p·Q + q,
/// column (i·k + j)·C + c.
func referenceIm2col(_ x: [Double], _ g: ConvolutionGeometry) -> [Double] {
    let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, k = g.kernelSize
    let P = g.outputHeight, Q = g.outputWidth, K = g.columnCount
    var col = [Double](repeating: 0, count: K * P * Q)
    for c in 0..<C { for i in 0..<k { for j in 0..<k { for p in 0..<P { for q in 0..<Q {
        let ih = p * g.stride - g.padding + i, iw = q * g.stride - g.padding + j
        if ih >= 0 && ih < H && iw >= 0 && iw < W {
            col[(p * Q + q) * K + (i * k + j) * C + c] = x[(ih * W + iw) * C + c]
        }
    }}}}}
    return col
}

/// Batch norm in Double on channels-last data x[(b·L + l)·C + c]: train mode with G groups of B/G samples
/// (batch statistics, biased variance) or eval mode with given statistics; optional ReLU after the affine step.
func referenceBatchNorm(_ x: [Double], batch B: Int, channels C: Int, spatial L: Int, gamma: [Double],
                        beta: [Double], groups G: Int, eval: (mean: [Double], variance: [Double])? = nil,
                        relu: Bool, epsilon: Double = 1e-5) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    let n = B / G
    for c in 0..<C {
        for group in 0..<(eval == nil ? G : 1) {
            let samples = eval == nil ? Array((group * n)..<((group + 1) * n)) : Array(0..<B)
            var mean = 0.0, variance = 0.0
            if let eval {
                mean = eval.mean[c]; variance = eval.variance[c]
            } else {
                var values: [Double] = []
                for b in samples { for l in 0..<L { values.append(x[(b * L + l) * C + c]) } }
                mean = values.reduce(0, +) / Double(values.count)
                variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            }
            for b in samples { for l in 0..<L {
                let i = (b * L + l) * C + c
                let o = gamma[c] * (x[i] - mean) / (variance + epsilon).squareRoot() + beta[c]
                y[i] = relu ? max(o, 0) : o
            }}
        }
    }
    return y
}

func referenceLinear(_ x: [Double], rows B: Int, inputs I: Int, outputs O: Int, weight w: [Double], bias: [Double]) -> [Double] {
    var y = [Double](repeating: 0, count: B * O)
    for r in 0..<B { for o in 0..<O {
        var s = bias[o]
        for i in 0..<I { s += x[r * I + i] * w[o * I + i] }
        y[r * O + o] = s
    }}
    return y
}

/// Mean over positions of channels-last x[B×L×C] → B×C.
func referencePool(_ x: [Double], batch B: Int, spatial L: Int, channels C: Int) -> [Double] {
    var h = [Double](repeating: 0, count: B * C)
    for b in 0..<B { for c in 0..<C { for l in 0..<L { h[b * C + c] += x[(b * L + l) * C + c] / Double(L) } } }
    return h
}

/// B×C×H×W → B×H×W×C.
func referenceChannelsLast(_ x: [Double], batch B: Int, channels C: Int, height H: Int, width W: Int) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    for b in 0..<B { for c in 0..<C { for i in 0..<H { for j in 0..<W {
        y[((b * H + i) * W + j) * C + c] = x[((b * C + c) * H + i) * W + j]
    }}}}
    return y
}

/// The whole model in Double, parameters given in `Model.parameters` order (BN in train mode with G groups,
/// or eval mode with the model's buffers).
func referenceModel(_ model: Model, parameters p: [[Double]], input x: [Double], batch B: Int,
                    groups G: Int, eval: Bool) -> (features: [Double], projection: [Double]) {
    let spec = model.spec
    var C = spec.inputChannels, H = spec.inputHeight, W = spec.inputWidth
    var a = referenceChannelsLast(x, batch: B, channels: C, height: H, width: W)
    for (stage, width) in spec.encoderWidths.enumerated() {
        let g = ConvolutionGeometry(inputChannels: C, inputHeight: H, inputWidth: W, outputChannels: width,
                                    kernelSize: 3, stride: stage == 0 ? 1 : 2, padding: 1)
        a = referenceConvolution(a, batch: B, g, weight: p[3 * stage])
        let stats = eval ? (doubles(model.buffers[2 * stage].storage), doubles(model.buffers[2 * stage + 1].storage)) : nil
        a = referenceBatchNorm(a, batch: B, channels: width, spatial: g.outputPixels, gamma: p[3 * stage + 1],
                               beta: p[3 * stage + 2], groups: G, eval: stats, relu: true)
        C = width; H = g.outputHeight; W = g.outputWidth
    }
    let h = referencePool(a, batch: B, spatial: H * W, channels: C)
    var z = h
    let base = 3 * spec.encoderWidths.count
    let layers = spec.head == .linear ? [(C, spec.projectionDim)] : [(C, C), (C, spec.projectionDim)]
    for (i, (inputs, outputs)) in layers.enumerated() {
        z = referenceLinear(z, rows: B, inputs: inputs, outputs: outputs, weight: p[base + 2 * i], bias: p[base + 2 * i + 1])
        if i + 1 < layers.count { z = z.map { max($0, 0) } }
    }
    return (h, z)
}
