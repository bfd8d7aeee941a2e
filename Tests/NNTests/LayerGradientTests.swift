// Every layer's forward matches its Double twin and its backward matches central finite differences of that
// twin (loss = Σ y·R for a random R), on small shapes with strides, padding, split-BN groups and eval mode.
// Tolerances are relative to the largest reference entry (see Reference.swift).
import Foundation
import Testing
import SeededRandom
@testable import NN

struct ConvCase: Sendable, CustomStringConvertible {
    let batch, channels, height, width, outputs, kernel, stride, padding: Int
    var description: String { "B\(batch) C\(channels) \(height)x\(width) O\(outputs) k\(kernel) s\(stride) p\(padding)" }
}

let convCases: [ConvCase] = [
    ConvCase(batch: 2, channels: 1, height: 5, width: 5, outputs: 3, kernel: 3, stride: 1, padding: 1),
    ConvCase(batch: 3, channels: 2, height: 7, width: 6, outputs: 4, kernel: 3, stride: 2, padding: 1),
    ConvCase(batch: 10, channels: 3, height: 4, width: 4, outputs: 2, kernel: 3, stride: 2, padding: 1),
    ConvCase(batch: 2, channels: 2, height: 6, width: 5, outputs: 3, kernel: 1, stride: 1, padding: 0),
    ConvCase(batch: 1, channels: 2, height: 5, width: 7, outputs: 2, kernel: 5, stride: 3, padding: 2),
    ConvCase(batch: 17, channels: 2, height: 3, width: 3, outputs: 3, kernel: 3, stride: 1, padding: 0),
    ConvCase(batch: 3, channels: 5, height: 5, width: 5, outputs: 6, kernel: 3, stride: 2, padding: 1),    // K = 45: sgemm
    ConvCase(batch: 2, channels: 3, height: 4, width: 4, outputs: 17, kernel: 3, stride: 1, padding: 1),   // K = 27: direct, O tail
]

/// The direct kernels of thin layers and the im2col + sgemm path agree (both are checked against the Double
/// twin above; this pins them to each other at Float precision, relative 1e-5 of the largest entry).
@Test(arguments: [(1, 32, 1), (3, 16, 2), (2, 19, 1), (1, 53, 1), (2, 64, 2)])   // outputs: 32-blocks, 16-blocks, tails
func directAndGEMMConvolutionsAgree(channels: Int, outputs: Int, stride: Int) {
    var gen = SeededGenerator(seed: 9)
    let g = ConvolutionGeometry(inputChannels: channels, inputHeight: 9, inputWidth: 7, outputChannels: outputs,
                                kernelSize: 3, stride: stride, padding: 1)
    let B = 11
    #expect(g.columnCount <= ConvolutionGeometry.directColumnLimit)
    let x = floats(randomArray(B * g.inputSize, &gen)), w = floats(randomArray(outputs * g.columnCount, &gen))
    let dy = floats(randomArray(B * g.outputSize, &gen))
    let direct = convolutionForward(input: x, batch: B, geometry: g, weight: w, threads: 2)
    let gemm = convolutionForward(input: x, batch: B, geometry: g, weight: w, threads: 2, directLimit: 0)
    expectClose(direct, doubles(gemm), tolerance: 1e-5, "forward")
    let d1 = convolutionBackward(input: x, batch: B, geometry: g, weight: w, dOutput: dy, computeInputGradient: false, threads: 2)
    let d2 = convolutionBackward(input: x, batch: B, geometry: g, weight: w, dOutput: dy, computeInputGradient: false,
                                 threads: 2, directLimit: 0)
    expectClose(d1.dWeight, doubles(d2.dWeight), tolerance: 1e-5, "dW")
}

@Test(arguments: convCases)
func convolutionMatchesDirectTwinAndFiniteDifferences(_ t: ConvCase) {
    var gen = SeededGenerator(seed: 1)
    let conv = Conv2d(inputChannels: t.channels, outputChannels: t.outputs, kernelSize: t.kernel,
                      stride: t.stride, padding: t.padding)
    let g = conv.geometry(height: t.height, width: t.width)
    let x = randomArray(t.batch * g.inputSize, &gen), w = randomArray(conv.weightShape.reduce(1, *), &gen)
    let r = randomArray(t.batch * g.outputSize, &gen)
    let context = ComputeContext(threads: 2)
    let xt = Tensor(shape: [t.batch, t.height, t.width, t.channels], storage: floats(x))
    let wt = Tensor(shape: conv.weightShape, storage: floats(w))
    let (y, cache) = conv.forward(xt, weight: wt, context: context)
    #expect(y.shape == [t.batch, g.outputHeight, g.outputWidth, t.outputs])
    expectClose(y.storage, referenceConvolution(x, batch: t.batch, g, weight: w), tolerance: 1e-5, "forward")
    let (dx, dw) = conv.backward(dY: Tensor(shape: y.shape, storage: floats(r)), weight: wt, cache: cache, context: context)
    let numericX = numericGradient(x) { dot(referenceConvolution($0, batch: t.batch, g, weight: w), r) }
    let numericW = numericGradient(w) { dot(referenceConvolution(x, batch: t.batch, g, weight: $0), r) }
    expectClose(dx!.storage, numericX, tolerance: 1e-4, "dX")
    expectClose(dw.storage, numericW, tolerance: 1e-4, "dW")
    let noInput = conv.backward(dY: Tensor(shape: y.shape, storage: floats(r)), weight: wt, cache: cache,
                                computeInputGradient: false, context: context)
    #expect(noInput.dX == nil)
    #expect(noInput.dWeight == dw)
}

@Test(arguments: convCases)
func im2colAndCol2imMatchTheirDefinitions(_ t: ConvCase) {
    var gen = SeededGenerator(seed: 2)
    let g = ConvolutionGeometry(inputChannels: t.channels, inputHeight: t.height, inputWidth: t.width,
                                outputChannels: t.outputs, kernelSize: t.kernel, stride: t.stride, padding: t.padding)
    let x = randomArray(g.inputSize, &gen)
    let L = g.outputPixels, K = g.columnCount
    // Written at offset L·K of a 3-image buffer: the rest must stay untouched (NaN).
    var col = [Float](repeating: .nan, count: 3 * L * K)
    let xf = floats(x)
    xf.withUnsafeBufferPointer { xb in
        col.withUnsafeMutableBufferPointer { cb in im2col(xb.baseAddress!, g, cb.baseAddress! + L * K) }
    }
    #expect(Array(col[(L * K)..<(2 * L * K)]) == floats(referenceIm2col(x, g)), "im2col differs from its definition")
    #expect(col[0..<(L * K)].allSatisfy(\.isNaN) && col[(2 * L * K)...].allSatisfy(\.isNaN), "im2col wrote outside its rows")
    // col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩, and it adds onto dx.
    let c = randomArray(K * L, &gen)
    var dx = [Float](repeating: 1, count: g.inputSize)
    floats(c).withUnsafeBufferPointer { cb in
        dx.withUnsafeMutableBufferPointer { db in col2im(cb.baseAddress!, g, db.baseAddress!) }
    }
    var expected = [Double](repeating: 1, count: g.inputSize)
    let adjoint = numericGradient(x) { dot(referenceIm2col($0, g), c) }
    for i in 0..<expected.count { expected[i] += adjoint[i] }
    expectClose(dx, expected, tolerance: 1e-5, "col2im")
}

struct NormCase: Sendable, CustomStringConvertible {
    let batch, channels, height, width, groups: Int
    let eval, relu: Bool
    var description: String { "B\(batch) C\(channels) \(height)x\(width) G\(groups) eval:\(eval) relu:\(relu)" }
}

let normCases: [NormCase] = [
    NormCase(batch: 4, channels: 3, height: 3, width: 2, groups: 1, eval: false, relu: false),
    NormCase(batch: 6, channels: 2, height: 2, width: 2, groups: 3, eval: false, relu: false),
    NormCase(batch: 8, channels: 3, height: 2, width: 1, groups: 2, eval: false, relu: true),
    NormCase(batch: 5, channels: 4, height: 0, width: 0, groups: 1, eval: false, relu: false),   // 1-d
    NormCase(batch: 8, channels: 3, height: 0, width: 0, groups: 4, eval: false, relu: true),    // 1-d split
    NormCase(batch: 3, channels: 2, height: 2, width: 3, groups: 1, eval: true, relu: false),
    NormCase(batch: 4, channels: 3, height: 0, width: 0, groups: 1, eval: true, relu: true),
    // 16 channels and more: the SIMD16 path of the column sums (19 = one SIMD block + a scalar tail).
    NormCase(batch: 4, channels: 19, height: 2, width: 2, groups: 2, eval: false, relu: true),
    NormCase(batch: 6, channels: 16, height: 0, width: 0, groups: 1, eval: false, relu: false),
]

@Test(arguments: normCases)
func batchNormMatchesTwinAndFiniteDifferences(_ t: NormCase) {
    var gen = SeededGenerator(seed: 3)
    let twoD = t.height > 0
    let L = twoD ? t.height * t.width : 1
    let shape = twoD ? [t.batch, t.height, t.width, t.channels] : [t.batch, t.channels]
    let x = randomArray(t.batch * t.channels * L, &gen, scale: 2).map { $0 + 0.5 }
    let gamma = randomArray(t.channels, &gen), beta = randomArray(t.channels, &gen)
    let runningMean = randomArray(t.channels, &gen)
    let runningVariance = randomArray(t.channels, &gen).map { 0.5 + abs($0) }
    let r = randomArray(x.count, &gen)
    let bn = BatchNorm(channels: t.channels)
    let mode: BatchNormMode = t.eval ? .eval : .train(groups: t.groups)
    let stats = t.eval ? (runningMean, runningVariance) : nil
    func reference(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> [Double] {
        referenceBatchNorm(x, batch: t.batch, channels: t.channels, spatial: L, gamma: gamma, beta: beta,
                           groups: t.groups, eval: stats, relu: t.relu)
    }
    let context = ComputeContext(threads: 2)
    let out = bn.forward(Tensor(shape: shape, storage: floats(x)), gamma: Tensor(shape: [t.channels], storage: floats(gamma)),
                         beta: Tensor(shape: [t.channels], storage: floats(beta)),
                         runningMean: Tensor(shape: [t.channels], storage: floats(runningMean)),
                         runningVariance: Tensor(shape: [t.channels], storage: floats(runningVariance)),
                         mode: mode, fusedReLU: t.relu, context: context)
    expectClose(out.y.storage, reference(x, gamma, beta), tolerance: 1e-5, "forward")
    let g = bn.backward(dY: Tensor(shape: shape, storage: floats(r)), gamma: Tensor(shape: [t.channels], storage: floats(gamma)),
                        beta: Tensor(shape: [t.channels], storage: floats(beta)), cache: out.cache, context: context)
    expectClose(g.dX.storage, numericGradient(x) { dot(reference($0, gamma, beta), r) }, tolerance: 1e-3, "dX")
    expectClose(g.dGamma.storage, numericGradient(gamma) { dot(reference(x, $0, beta), r) }, tolerance: 1e-4, "dGamma")
    expectClose(g.dBeta.storage, numericGradient(beta) { dot(reference(x, gamma, $0), r) }, tolerance: 1e-4, "dBeta")
    // Running statistics: train mode averages the per-group momentum updates (unbiased variance); eval keeps them.
    if t.eval {
        #expect(out.runningMean == nil && out.runningVariance == nil)
    } else {
        let n = t.batch / t.groups, count = Double(n * L)
        var expectedMean = [Double](repeating: 0, count: t.channels), expectedVariance = expectedMean
        for c in 0..<t.channels {
            for group in 0..<t.groups {
                var values: [Double] = []
                for b in (group * n)..<((group + 1) * n) { for l in 0..<L { values.append(x[(b * L + l) * t.channels + c]) } }
                let mean = values.reduce(0, +) / count
                let unbiased = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (count - 1)
                expectedMean[c] += (0.9 * runningMean[c] + 0.1 * mean) / Double(t.groups)
                expectedVariance[c] += (0.9 * runningVariance[c] + 0.1 * unbiased) / Double(t.groups)
            }
        }
        expectClose(out.runningMean!.storage, expectedMean, tolerance: 1e-5, "running mean")
        expectClose(out.runningVariance!.storage, expectedVariance, tolerance: 1e-5, "running variance")
    }
}

@Test func linearMatchesTwinAndFiniteDifferences() {
    var gen = SeededGenerator(seed: 4)
    let B = 5, I = 7, O = 3
    let layer = Linear(inputFeatures: I, outputFeatures: O)
    let x = randomArray(B * I, &gen), w = randomArray(O * I, &gen), b = randomArray(O, &gen), r = randomArray(B * O, &gen)
    let (y, cache) = layer.forward(Tensor(shape: [B, I], storage: floats(x)), weight: Tensor(shape: [O, I], storage: floats(w)),
                                   bias: Tensor(shape: [O], storage: floats(b)))
    expectClose(y.storage, referenceLinear(x, rows: B, inputs: I, outputs: O, weight: w, bias: b), tolerance: 1e-5, "forward")
    let g = layer.backward(dY: Tensor(shape: [B, O], storage: floats(r)), weight: Tensor(shape: [O, I], storage: floats(w)), cache: cache)
    expectClose(g.dX!.storage, numericGradient(x) { dot(referenceLinear($0, rows: B, inputs: I, outputs: O, weight: w, bias: b), r) },
                tolerance: 1e-4, "dX")
    expectClose(g.dWeight.storage, numericGradient(w) { dot(referenceLinear(x, rows: B, inputs: I, outputs: O, weight: $0, bias: b), r) },
                tolerance: 1e-4, "dW")
    expectClose(g.dBias.storage, numericGradient(b) { dot(referenceLinear(x, rows: B, inputs: I, outputs: O, weight: w, bias: $0), r) },
                tolerance: 1e-4, "db")
}

@Test func reluAndPoolMatchFiniteDifferences() {
    var gen = SeededGenerator(seed: 5)
    let shape = [2, 2, 3, 3]   // B×H×W×C
    let x = randomArray(36, &gen), r = randomArray(36, &gen), rp = randomArray(6, &gen)
    let relu = ReLU().forward(Tensor(shape: shape, storage: floats(x)))
    expectClose(relu.y.storage, doubles(floats(x)).map { max($0, 0) }, tolerance: 0, "relu forward")
    let dRelu = ReLU().backward(dY: Tensor(shape: shape, storage: floats(r)), cache: relu.cache)
    expectClose(dRelu.storage, numericGradient(x) { dot($0.map { max($0, 0) }, r) }, tolerance: 1e-6, "relu dX")
    let pool = GlobalAveragePool().forward(Tensor(shape: shape, storage: floats(x)))
    #expect(pool.y.shape == [2, 3])
    expectClose(pool.y.storage, referencePool(x, batch: 2, spatial: 6, channels: 3), tolerance: 1e-6, "pool forward")
    let dPool = GlobalAveragePool().backward(dY: Tensor(shape: [2, 3], storage: floats(rp)), cache: pool.cache)
    expectClose(dPool.storage, numericGradient(x) { dot(referencePool($0, batch: 2, spatial: 6, channels: 3), rp) }, tolerance: 1e-5, "pool dX")
}

@Test func l2NormalizationMatchesFiniteDifferences() {
    var gen = SeededGenerator(seed: 6)
    let B = 3, D = 5
    let x = randomArray(B * D, &gen), r = randomArray(B * D, &gen)
    func reference(_ x: [Double]) -> [Double] {
        var y = x
        for row in 0..<B {
            let norm = (0..<D).reduce(0.0) { $0 + x[row * D + $1] * x[row * D + $1] }.squareRoot()
            for j in 0..<D { y[row * D + j] = x[row * D + j] / norm }
        }
        return y
    }
    let (y, norms) = l2Normalize(Tensor(shape: [B, D], storage: floats(x)))
    expectClose(y.storage, reference(x), tolerance: 1e-6, "forward")
    for row in 0..<B {
        let s = (0..<D).reduce(0.0) { $0 + Double(y.storage[row * D + $1]) * Double(y.storage[row * D + $1]) }
        #expect(abs(s - 1) < 1e-6)
    }
    let dx = l2NormalizeBackward(dY: Tensor(shape: [B, D], storage: floats(r)), y: y, norms: norms)
    expectClose(dx.storage, numericGradient(x) { dot(reference($0), r) }, tolerance: 1e-4, "dX")
}

@Test func softmaxCrossEntropyMatchesFiniteDifferences() {
    var gen = SeededGenerator(seed: 7)
    let B = 4, D = 6
    let logits = randomArray(B * D, &gen, scale: 3).map { $0 + 50 }   // large offset: needs the max shift
    let labels = [0, 5, 2, 2]
    func reference(_ z: [Double]) -> Double {
        var total = 0.0
        for row in 0..<B {
            let m = (0..<D).map { z[row * D + $0] }.max()!
            let s = (0..<D).reduce(0.0) { $0 + exp(z[row * D + $1] - m) }
            total += m + log(s) - z[row * D + labels[row]]
        }
        return total / Double(B)
    }
    let (loss, d) = softmaxCrossEntropy(logits: Tensor(shape: [B, D], storage: floats(logits)), labels: labels)
    #expect(abs(loss - reference(doubles(floats(logits)))) < 1e-9 * max(1, abs(loss)))
    expectClose(d.storage, numericGradient(doubles(floats(logits)), reference), tolerance: 1e-5, "dLogits")
}
