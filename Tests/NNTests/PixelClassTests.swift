// The padding-aware convolution (Kernels/ConvolutionPixelClasses.swift): which layers split into which classes,
// and that the classed forward and backward passes give the plain path's numbers (Float rounding apart), the
// Double twin's, the same bits for any thread count, and the same dX through a sink as stored.
import Testing
import SeededRandom
import Parallel
@testable import NN

private func geometry(_ C: Int, _ H: Int, _ W: Int, _ O: Int, k: Int = 3, s: Int, p: Int = 1) -> ConvolutionGeometry {
    ConvolutionGeometry(inputChannels: C, inputHeight: H, inputWidth: W, outputChannels: O, kernelSize: k,
                        stride: s, padding: p)
}

@Test func convnetSLayersSplitAsDocumented() throws {
    // conv4: 7×7 → 4×4: top row, bottom row, left and right edges, interior; 108 of 144 taps per image.
    let conv4 = try #require(PixelClassPlan(geometry(128, 7, 7, 256, s: 2), partSize: 32))
    #expect(conv4.classes.count == 5)
    #expect(conv4.classes.map { $0.pixels.count }.reduce(0, +) == 16)
    #expect(conv4.classes.map { $0.pixels.count * $0.columnCount / 128 }.reduce(0, +) == 108)
    #expect(conv4.classes.filter { $0.contiguousStart == nil }.count == 2)
    // conv3 (14×14 → 7×7: 402 of 441 taps, 8.8 % saved) and conv2 (4.6 %) stay under the threshold; no padding
    // saves nothing.
    #expect(PixelClassPlan(geometry(64, 14, 14, 128, s: 2), partSize: 32) == nil)
    #expect(PixelClassPlan(geometry(32, 28, 28, 64, s: 2), partSize: 32) == nil)
    #expect(PixelClassPlan(geometry(8, 9, 9, 8, s: 1, p: 0), partSize: 32) == nil)
    // Padding wider than the kernel: some output pixels read no tap at all; the plain path handles them.
    #expect(PixelClassPlan(geometry(2, 5, 5, 3, k: 3, s: 1, p: 4), partSize: 4) == nil)
    #expect(PixelClassPlan(geometry(2, 5, 5, 3, k: 3, s: 2, p: 3), partSize: 4) == nil)
    // Every pixel in exactly one class.
    #expect(conv4.classes.flatMap(\.pixels).sorted() == Array(0..<16))
}

struct ClassCase: Sendable, CustomStringConvertible {
    let batch, channels, height, width, outputs, kernel, stride, padding: Int
    var description: String { "B\(batch) C\(channels) \(height)x\(width) O\(outputs) k\(kernel) s\(stride) p\(padding)" }
    var geometry: ConvolutionGeometry {
        ConvolutionGeometry(inputChannels: channels, inputHeight: height, inputWidth: width, outputChannels: outputs,
                            kernelSize: kernel, stride: stride, padding: padding)
    }
}

private let classCases: [ClassCase] = [
    ClassCase(batch: 13, channels: 8, height: 7, width: 7, outputs: 16, kernel: 3, stride: 2, padding: 1),   // conv4-like
    ClassCase(batch: 9, channels: 5, height: 8, width: 6, outputs: 7, kernel: 3, stride: 2, padding: 1),    // even sizes
    ClassCase(batch: 6, channels: 4, height: 5, width: 9, outputs: 3, kernel: 3, stride: 1, padding: 1),    // stride 1
    ClassCase(batch: 5, channels: 4, height: 6, width: 7, outputs: 5, kernel: 5, stride: 2, padding: 2),    // wide pad
    ClassCase(batch: 3, channels: 4, height: 2, width: 3, outputs: 4, kernel: 3, stride: 1, padding: 1),    // no full row
    ClassCase(batch: 320, channels: 64, height: 6, width: 6, outputs: 8, kernel: 3, stride: 1, padding: 1),   // 2 groups a part
]

@Test(arguments: classCases)
func classedConvolutionMatchesPlainAndTwin(_ t: ClassCase) throws {
    let g = t.geometry
    let plan = try #require(PixelClassPlan(g, partSize: (t.batch + 7) / 8), "\(t) should split")
    var gen = SeededGenerator(seed: 21)
    let x = randomArray(t.batch * g.inputSize, &gen), w = randomArray(t.outputs * g.columnCount, &gen)
    let dy = floats(randomArray(t.batch * g.outputSize, &gen))
    let xf = floats(x), wf = floats(w)
    let classed = convolutionForward(input: xf, batch: t.batch, geometry: g, weight: wf, threads: 2, directLimit: 0)
    let plain = convolutionForward(input: xf, batch: t.batch, geometry: g, weight: wf, threads: 2, directLimit: 0,
                                   pixelClasses: false)
    expectClose(classed, doubles(plain), tolerance: 1e-5, "\(t) forward vs plain")
    if t.batch * g.outputSize * g.columnCount < 2_000_000 {
        expectClose(classed, referenceConvolution(x, batch: t.batch, g, weight: w), tolerance: 1e-5, "\(t) forward")
    }
    let c = convolutionBackward(input: xf, batch: t.batch, geometry: g, weight: wf, dOutput: dy,
                                computeInputGradient: true, threads: 2, directLimit: 0)
    let p = convolutionBackward(input: xf, batch: t.batch, geometry: g, weight: wf, dOutput: dy,
                                computeInputGradient: true, threads: 2, directLimit: 0, pixelClasses: false)
    expectClose(c.dWeight, doubles(p.dWeight), tolerance: 1e-5, "\(t) dW vs plain")
    expectClose(try #require(c.dInput), doubles(try #require(p.dInput)), tolerance: 1e-5, "\(t) dX vs plain")
    let noInput = convolutionBackward(input: xf, batch: t.batch, geometry: g, weight: wf, dOutput: dy,
                                      computeInputGradient: false, threads: 2, directLimit: 0)
    #expect(noInput.dInput == nil)
    #expect(noInput.dWeight == c.dWeight)
    if t.batch == 320 { #expect(plan.groups(partSize: 40) == 2) }
}

@Test func classedConvolutionIsThreadInvariantAndSinksMatchStored() throws {
    let t = classCases[0], g = t.geometry
    var gen = SeededGenerator(seed: 22)
    let x = floats(randomArray(t.batch * g.inputSize, &gen)), w = floats(randomArray(t.outputs * g.columnCount, &gen))
    let dy = floats(randomArray(t.batch * g.outputSize, &gen))
    let y1 = convolutionForward(input: x, batch: t.batch, geometry: g, weight: w, threads: 1)
    let y3 = convolutionForward(input: x, batch: t.batch, geometry: g, weight: w, threads: 3)
    #expect(y1 == y3)
    let b1 = convolutionBackward(input: x, batch: t.batch, geometry: g, weight: w, dOutput: dy,
                                 computeInputGradient: true, threads: 1)
    let b3 = convolutionBackward(input: x, batch: t.batch, geometry: g, weight: w, dOutput: dy,
                                 computeInputGradient: true, threads: 3)
    #expect(b1.dWeight == b3.dWeight)
    #expect(b1.dInput == b3.dInput)

    // A sink receives each image's dX once, with the stored path's values; dY formed on demand (as batch norm's
    // backward does) instead of read from the stored batch changes nothing.
    let dyStored = dy, outputs = g.outputChannels
    let formedDY = ConvolutionOutputGradient.computed { range, out in
        for r in range { for o in 0..<outputs { out[(r - range.lowerBound) * outputs + o] = dyStored[r * outputs + o] } }
    }
    let collected = UnsafeMutablePointer<Float>.allocate(capacity: t.batch * g.inputSize)
    collected.initialize(repeating: .nan, count: t.batch * g.inputSize)
    defer { collected.deallocate() }
    let sinkTarget = SendablePointer(collected), size = g.inputSize
    let viaSink = x.withUnsafeBufferPointer { xb in
        convolutionBackward(source: .stored(SendablePointer(UnsafeMutablePointer(mutating: xb.baseAddress!)), imageSize: size),
                            batch: t.batch, geometry: g, weight: w, dOutput: formedDY,
                            inputGradient: .sink(scratchCount: 4) { _, image, dx, scratch in
                                scratch.update(repeating: 1, count: 4)
                                (sinkTarget.base + image * size).update(from: dx, count: size)
                            }, threads: 2)
    }
    #expect(viaSink.dInput == nil)
    #expect(viaSink.dWeight == b1.dWeight)
    #expect(Array(UnsafeBufferPointer(start: collected, count: t.batch * size)) == b1.dInput)
}

@Test func anEmptyBatchGivesEmptyOutputsAndAZeroWeightGradient() {
    let g = ClassCase(batch: 0, channels: 8, height: 7, width: 7, outputs: 16, kernel: 3, stride: 2, padding: 1).geometry
    let w = [Float](repeating: 0.5, count: 16 * g.columnCount)
    #expect(convolutionForward(input: [], batch: 0, geometry: g, weight: w, threads: 2).isEmpty)
    let b = convolutionBackward(input: [], batch: 0, geometry: g, weight: w, dOutput: [], computeInputGradient: true,
                                threads: 2)
    #expect(b.dInput == [])
    #expect(b.dWeight == [Float](repeating: 0, count: w.count))
}
