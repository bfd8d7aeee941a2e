// The implicit-GEMM forward (ImplicitConvolution.swift): the same bits as its plain Float twin (FMA over
// (ki, kj, c) in order, padding taps multiplying zeros), close to the Double reference and to im2col + sgemm,
// the same bytes for any thread count, and the layers it applies to.
import Testing
import SeededRandom
@testable import NN

/// The implicit kernel's arithmetic spelled out: per output, acc = fma(x, w, acc) over ki, kj, c in order, with
/// x = 0 for taps in the padding. w in PyTorch's O×C×k×k order.
private func plainFloatTwin(_ x: [Float], batch B: Int, _ g: ConvolutionGeometry, weight w: [Float]) -> [Float] {
    let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, O = g.outputChannels, k = g.kernelSize
    let P = g.outputHeight, Q = g.outputWidth
    var y = [Float](repeating: 0, count: B * P * Q * O)
    for b in 0..<B { for p in 0..<P { for q in 0..<Q { for o in 0..<O {
        var acc: Float = 0
        for i in 0..<k { for j in 0..<k { for c in 0..<C {
            let ih = p * g.stride - g.padding + i, iw = q * g.stride - g.padding + j
            let v: Float = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[((b * H + ih) * W + iw) * C + c] : 0
            acc = acc.addingProduct(v, w[((o * C + c) * k + i) * k + j])
        }}}
        y[((b * P + p) * Q + q) * O + o] = acc
    }}}}
    return y
}

// (channels, outputs, height, width, stride, padding, batch): convnet-s conv2/conv3-like shapes, odd channel counts,
// stride 1, no padding, and pixel totals that leave a partial tile of 12.
@Test(arguments: [(32, 64, 28, 28, 2, 1, 3), (64, 128, 14, 14, 2, 1, 2), (5, 32, 9, 7, 1, 1, 11),
                  (16, 96, 8, 8, 2, 1, 5), (7, 32, 6, 5, 1, 0, 3)])
func implicitForwardMatchesItsTwinTheReferenceAndTheGEMMPath(
    channels: Int, outputs: Int, height: Int, width: Int, stride: Int, padding: Int, batch B: Int) {
    var gen = SeededGenerator(seed: 21)
    let g = ConvolutionGeometry(inputChannels: channels, inputHeight: height, inputWidth: width,
                                outputChannels: outputs, kernelSize: 3, stride: stride, padding: padding)
    #expect(ImplicitConvolution.applies(to: g) && g.columnCount > ConvolutionGeometry.directColumnLimit)
    let x = randomArray(B * g.inputSize, &gen), w = randomArray(outputs * g.columnCount, &gen)
    let xf = floats(x), wf = floats(w)
    let implicit = convolutionForward(input: xf, batch: B, geometry: g, weight: wf, threads: 2, pixelClasses: false)
    #expect(implicit == plainFloatTwin(xf, batch: B, g, weight: wf))
    expectClose(implicit, referenceConvolution(x, batch: B, g, weight: w), tolerance: 1e-5, "forward")
    let gemm = convolutionForward(input: xf, batch: B, geometry: g, weight: wf, threads: 2, pixelClasses: false,
                                  implicit: false)
    expectClose(implicit, doubles(gemm), tolerance: 1e-5, "against im2col + sgemm")
    for threads in [1, 3] {
        #expect(convolutionForward(input: xf, batch: B, geometry: g, weight: wf, threads: threads,
                                   pixelClasses: false) == implicit, "threads \(threads)")
    }
}

@Test func implicitForwardAppliesToThinLayersWithWholeOutputTiles() {
    func geometry(_ c: Int, _ o: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(inputChannels: c, inputHeight: 14, inputWidth: 14, outputChannels: o, kernelSize: 3,
                            stride: 2, padding: 1)
    }
    #expect(ImplicitConvolution.applies(to: geometry(32, 64)))     // convnet-s conv2
    #expect(ImplicitConvolution.applies(to: geometry(64, 128)))    // convnet-s conv3
    #expect(!ImplicitConvolution.applies(to: geometry(128, 256)))  // convnet-s conv4: im2col + sgemm (or classes)
    #expect(!ImplicitConvolution.applies(to: geometry(32, 48)))    // not whole 32-output tiles
}

/// The implicit input gradient's arithmetic spelled out: per input element, acc = fma(dY, w, acc) over the taps
/// (ki, kj) that can reach the pixel (ascending), then the outputs o, with dY = 0 where the tap's output pixel is
/// outside the image.
private func plainInputGradientTwin(_ dy: [Float], batch B: Int, _ g: ConvolutionGeometry, weight w: [Float]) -> [Float] {
    let C = g.inputChannels, H = g.inputHeight, W = g.inputWidth, O = g.outputChannels, k = g.kernelSize
    let P = g.outputHeight, Q = g.outputWidth, s = g.stride, pad = g.padding
    func reaches(_ i: Int, _ ki: Int) -> Bool { ((i + pad - ki) % s + s) % s == 0 }
    var dx = [Float](repeating: 0, count: B * H * W * C)
    for b in 0..<B { for ih in 0..<H { for iw in 0..<W { for c in 0..<C {
        var acc: Float = 0
        for ki in 0..<k where reaches(ih, ki) { for kj in 0..<k where reaches(iw, kj) {
            let oh = (ih + pad - ki) / s, ow = (iw + pad - kj) / s
            let inside = ih + pad - ki >= 0 && iw + pad - kj >= 0 && oh < P && ow < Q
            for o in 0..<O {
                let v: Float = inside ? dy[((b * P + oh) * Q + ow) * O + o] : 0
                acc = acc.addingProduct(v, w[((o * C + c) * k + ki) * k + kj])
            }
        }}
        dx[((b * H + ih) * W + iw) * C + c] = acc
    }}}}
    return dx
}

// (channels, outputs, height, width, stride, padding, batch): conv2/conv3-like, odd sizes (rows no output reaches
// with stride 2), stride 1, no padding, partial tiles.
@Test(arguments: [(32, 64, 28, 28, 2, 1, 3), (64, 128, 14, 14, 2, 1, 2), (32, 32, 9, 7, 2, 1, 5),
                  (32, 64, 6, 5, 1, 1, 3), (64, 32, 7, 8, 1, 0, 2)])
func implicitInputGradientMatchesItsTwinTheReferenceAndTheGEMMPath(
    channels: Int, outputs: Int, height: Int, width: Int, stride: Int, padding: Int, batch B: Int) {
    var gen = SeededGenerator(seed: 22)
    let g = ConvolutionGeometry(inputChannels: channels, inputHeight: height, inputWidth: width,
                                outputChannels: outputs, kernelSize: 3, stride: stride, padding: padding)
    #expect(ImplicitConvolution.appliesToInputGradient(g))
    let x = floats(randomArray(B * g.inputSize, &gen)), w = randomArray(outputs * g.columnCount, &gen)
    let dy = randomArray(B * g.outputSize, &gen)
    let wf = floats(w), dyf = floats(dy)
    let implicit = convolutionBackward(input: x, batch: B, geometry: g, weight: wf, dOutput: dyf,
                                       computeInputGradient: true, threads: 2, pixelClasses: false)
    let dx = implicit.dInput ?? []
    #expect(dx == plainInputGradientTwin(dyf, batch: B, g, weight: wf))
    let gemm = convolutionBackward(input: x, batch: B, geometry: g, weight: wf, dOutput: dyf,
                                   computeInputGradient: true, threads: 2, pixelClasses: false, implicit: false)
    expectClose(dx, doubles(gemm.dInput ?? []), tolerance: 1e-5, "dX against dcol + col2im")
    #expect(implicit.dWeight == gemm.dWeight)   // the weight gradient takes the same path either way
    for threads in [1, 3] {
        let again = convolutionBackward(input: x, batch: B, geometry: g, weight: wf, dOutput: dyf,
                                        computeInputGradient: true, threads: threads, pixelClasses: false)
        #expect(again.dInput == dx && again.dWeight == implicit.dWeight, "threads \(threads)")
    }
}
