// The whole encoder + head: forward against the Double twin, backward against finite differences of it
// (train mode with split-BN, and eval mode), parameter traversal, determinism across thread counts, and a loss
// that falls on a tiny problem.
import Testing
import SeededRandom
import Parallel
@testable import NN

/// A tiny model for gradient checks: widths 2-3-3-4 on 1×8×8 (the test-only width override).
func tinySpec(head: HeadKind, channels: Int = 1) -> ModelSpec {
    var spec = ModelSpec(encoder: .convnetXS, head: head, inputChannels: channels, inputHeight: 8, inputWidth: 8,
                         projectionDim: 3)
    spec.widthsOverride = [2, 3, 3, 4]
    return spec
}

@Test(arguments: [(HeadKind.mlp, false), (.linear, false), (.mlp, true)])
func wholeModelBackwardMatchesFiniteDifferences(head: HeadKind, eval: Bool) {
    var gen = SeededGenerator(seed: 21)
    var model = Model(spec: tinySpec(head: head, channels: 2), generator: &gen)
    // Non-trivial BN affine parameters and running statistics so every path matters.
    for stage in 0..<4 {
        model.parameters[3 * stage + 1].storage = model.parameters[3 * stage + 1].storage.map { _ in Float(1 + 0.3 * gen.normal()) }
        model.parameters[3 * stage + 2].storage = model.parameters[3 * stage + 2].storage.map { _ in Float(0.2 * gen.normal()) }
        model.buffers[2 * stage].storage = model.buffers[2 * stage].storage.map { _ in Float(0.1 * gen.normal()) }
        model.buffers[2 * stage + 1].storage = model.buffers[2 * stage + 1].storage.map { _ in Float(0.5 + gen.nextDouble()) }
    }
    let B = 4, G = 2
    let x = randomArray(B * 2 * 64, &gen)
    let r = randomArray(B * 3, &gen)
    let p = model.parameters.map { doubles($0.storage) }
    let before = model.buffers
    let reference = referenceModel(model, parameters: p, input: x, batch: B, groups: G, eval: eval)
    let output = model.forward(Tensor(shape: [B, 2, 8, 8], storage: floats(x)), mode: eval ? .eval : .train(groups: G),
                               context: ComputeContext(threads: 2))
    expectClose(output.features.storage, reference.features, tolerance: 1e-5, "features")
    expectClose(output.projection.storage, reference.projection, tolerance: 1e-5, "projection")
    #expect((model.buffers == before) == eval, "running statistics change in train mode only")
    let gradients = model.backward(dProjection: Tensor(shape: [B, 3], storage: floats(r)), cache: output.cache,
                                   context: ComputeContext(threads: 2))
    #expect(gradients.map(\.shape) == model.parameters.map(\.shape))
    var frozen = model
    frozen.buffers = before
    var numeric: [[Double]] = []
    for i in 0..<p.count {
        numeric.append(numericGradient(p[i]) { value in
            var q = p
            q[i] = value
            return dot(referenceModel(frozen, parameters: q, input: x, batch: B, groups: G, eval: eval).projection, r)
        })
    }
    // Errors are relative to the tensor's largest reference entry, but never to less than 1e-3 of the largest
    // gradient entry of the whole model: in train mode the early BN gradients are differences of nearly equal
    // terms, so their Float rounding scales with the upstream gradients, not with their own (tiny) size.
    let modelScale = numeric.flatMap { $0 }.map(abs).max() ?? 0
    for (i, name) in model.parameterNames.enumerated() {
        let worst = zip(gradients[i].storage, numeric[i]).map { abs(Double($0) - $1) }.max() ?? 0
        let scale = max(numeric[i].map(abs).max() ?? 0, 1e-3 * modelScale)
        #expect(worst <= 2e-3 * scale, "\(name): error \(worst) vs scale \(scale)")
    }
}

@Test func parameterTraversalHasAFixedOrderAndNames() {
    var gen = SeededGenerator(seed: 1)
    let model = Model(spec: ModelSpec(), generator: &gen)
    #expect(model.spec.featureDim == 256)
    #expect(model.parameterNames == [
        "conv1.weight", "bn1.gamma", "bn1.beta", "conv2.weight", "bn2.gamma", "bn2.beta",
        "conv3.weight", "bn3.gamma", "bn3.beta", "conv4.weight", "bn4.gamma", "bn4.beta",
        "head.fc1.weight", "head.fc1.bias", "head.fc2.weight", "head.fc2.bias",
    ])
    #expect(model.parameters.map(\.shape) == [
        [32, 1, 3, 3], [32], [32], [64, 32, 3, 3], [64], [64], [128, 64, 3, 3], [128], [128],
        [256, 128, 3, 3], [256], [256], [256, 256], [256], [128, 256], [128],
    ])
    #expect(model.bufferNames.count == 8 && model.buffers.map(\.shape) == model.bufferShapes)
    var gen2 = SeededGenerator(seed: 2)
    let xs = Model(spec: ModelSpec(encoder: .convnetXS, head: .linear, inputChannels: 3, inputHeight: 32, inputWidth: 32),
                   generator: &gen2)
    #expect(xs.spec.featureDim == 128)
    #expect(xs.parameterNames.suffix(2) == ["head.fc.weight", "head.fc.bias"])
    #expect(xs.parameters[0].shape == [16, 3, 3, 3] && xs.parameters[12].shape == [128, 128])
    #expect(xs.spec.stageSizes.map(\.height) == [32, 16, 8, 4])
    #expect(ModelSpec().stageSizes.map(\.height) == [28, 14, 7, 4])
}

@Test func initialisationFollowsKaimingAndPyTorchUniform() {
    var gen = SeededGenerator(seed: 3)
    let model = Model(spec: ModelSpec(), generator: &gen)
    // conv4: N(0, 2/(256·9)); 294 912 draws, so the sample std is within ~0.2 % of the target.
    let w = doubles(model.parameters[9].storage)
    let std = (w.map { $0 * $0 }.reduce(0, +) / Double(w.count)).squareRoot()
    #expect(abs(std / (2.0 / (256 * 9)).squareRoot() - 1) < 0.01)
    let bound = 1 / Float(256).squareRoot()
    #expect(model.parameters[12].storage.allSatisfy { abs($0) <= bound })
    #expect(model.parameters[12].storage.max()! > 0.95 * bound)
    #expect(model.parameters[1].storage.allSatisfy { $0 == 1 } && model.parameters[2].storage.allSatisfy { $0 == 0 })
    #expect(model.buffers[1].storage.allSatisfy { $0 == 1 })
}

/// N SGD steps of a small convnet-xs with a fixed random objective; returns all parameter and buffer bytes.
func trainedBytes(threads: Int, steps: Int = 3) -> [Float] {
    var gen = SeededGenerator(seed: 99)
    var spec = ModelSpec(encoder: .convnetXS, head: .mlp, inputChannels: 1, inputHeight: 12, inputWidth: 12)
    spec.projectionDim = 16
    var model = Model(spec: spec, generator: &gen)
    var sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
    let context = ComputeContext(threads: threads)
    let B = 24
    for _ in 0..<steps {
        let x = Tensor(shape: [B, 1, 12, 12], storage: (0..<(B * 144)).map { _ in Float(gen.normal()) })
        let r = Tensor(shape: [B, 16], storage: (0..<(B * 16)).map { _ in Float(gen.normal()) })
        let out = model.forward(x, mode: .train(groups: 4), context: context)
        let g = model.backward(dProjection: r, cache: out.cache, context: context)
        sgd.step(parameters: &model.parameters, gradients: g, learningRate: 0.1)
    }
    let h = model.features(Tensor(shape: [5, 1, 12, 12], storage: (0..<720).map { _ in Float(gen.normal()) }),
                           context: context, chunkSize: 2)
    return model.parameters.flatMap(\.storage) + model.buffers.flatMap(\.storage) + sgd.state.flatMap(\.storage) + h.storage
}

@Test func sameSeedGivesIdenticalBytesWhateverTheThreadCount() {
    let one = trainedBytes(threads: 1)
    let two = trainedBytes(threads: 2)
    let three = trainedBytes(threads: 3)
    #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    #expect(one.map(\.bitPattern) == three.map(\.bitPattern))
    #expect(one.allSatisfy { $0.isFinite })
}

@Test func featuresAreTheEvalForwardInChunks() {
    var gen = SeededGenerator(seed: 5)
    var model = Model(spec: tinySpec(head: .mlp), generator: &gen)
    let x = Tensor(shape: [5, 1, 8, 8], storage: (0..<320).map { _ in Float(gen.normal()) })
    let context = ComputeContext(threads: 2)
    _ = model.forward(x, mode: .train(groups: 1), context: context)   // moves the running statistics
    let whole = model.forward(x, mode: .eval, context: context).features
    let chunked = model.features(x, context: context, chunkSize: 2)
    #expect(chunked.shape == [5, 4])
    expectClose(chunked.storage, doubles(whole.storage), tolerance: 1e-6, "chunked features")
}

@Test func lossFallsOnATinyClassificationProblem() {
    // Two classes: bright top half vs bright bottom half, plus noise. The projection is used as logits.
    var gen = SeededGenerator(seed: 8)
    var spec = tinySpec(head: .mlp)
    spec.projectionDim = 2
    var model = Model(spec: spec, generator: &gen)
    var sgd = SGD(learningRate: 0.05, momentum: 0.9)
    let context = ComputeContext(threads: 2)
    let B = 16
    var losses: [Double] = []
    for _ in 0..<40 {
        var pixels: [Float] = [], labels: [Int] = []
        for _ in 0..<B {
            let label = gen.int(below: 2)
            labels.append(label)
            for row in 0..<8 { for _ in 0..<8 { pixels.append(Float((row < 4) == (label == 0) ? 1 : 0) + Float(0.3 * gen.normal())) } }
        }
        let out = model.forward(Tensor(shape: [B, 1, 8, 8], storage: pixels), mode: .train(groups: 2), context: context)
        let (loss, d) = softmaxCrossEntropy(logits: out.projection, labels: labels)
        losses.append(loss)
        sgd.step(parameters: &model.parameters, gradients: model.backward(dProjection: d, cache: out.cache, context: context),
                 learningRate: 0.05)
    }
    let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
    #expect(last < 0.5 * first, "loss went from \(first) to \(last)")
}

/// A case of the fused-versus-plain comparison.
struct FusionCase: Sendable, CustomTestStringConvertible {
    var channels: Int, size: Int, batch: Int, groups: Int, eval = false
    var widths: [Int]? = nil
    var testDescription: String {
        "\(channels)×\(size)×\(size) B \(batch) G \(groups)\(eval ? " eval" : "")\(widths.map { " widths \($0)" } ?? "")"
    }
    /// Forward bits equal the plain layers' (stem blocks align with the plain BN blocks, or no stem at all).
    var exact: Bool {
        let stem = channels * 9 <= ConvolutionGeometry.directColumnLimit
        let parts = max(1, min(batch / groups * size * size, ComputeContext.batchParts / groups))   // as normalizationParts
        return !stem || (size * size % 16 == 0 && (batch / groups) % parts == 0)
    }
}

let fusionCases: [FusionCase] = [
    FusionCase(channels: 1, size: 16, batch: 16, groups: 4),
    FusionCase(channels: 1, size: 16, batch: 16, groups: 1),
    FusionCase(channels: 3, size: 16, batch: 16, groups: 2),
    FusionCase(channels: 1, size: 16, batch: 16, groups: 1, eval: true),
    FusionCase(channels: 1, size: 14, batch: 12, groups: 4),          // rows per image not a multiple of 16
    FusionCase(channels: 1, size: 12, batch: 10, groups: 1),          // BN parts start inside images
    FusionCase(channels: 1, size: 8, batch: 20, groups: 10),          // more groups than parts
    FusionCase(channels: 2, size: 7, batch: 9, groups: 3, widths: [17, 19, 33, 40]),   // channels off 16, L < 16
    FusionCase(channels: 1, size: 14, batch: 12, groups: 2, widths: [32, 64, 64, 128]),   // implicit conv2-4, dX into the stem's sink
    FusionCase(channels: 4, size: 14, batch: 12, groups: 2),          // conv1 too wide for the stem: BN fusion only
    FusionCase(channels: 4, size: 14, batch: 12, groups: 1, eval: true),
]

/// The fused layers (the stem: conv1 → BN1 → ReLU → conv2 recomputing conv1 per image; later BNs applied by their
/// consumers) against the plain layers, in train mode (split BN and plain BN) and eval mode, for grey and RGB inputs,
/// odd batches and group counts, channel counts off 16, and a conv1 too wide for the stem (BN fusion only). Forward
/// and running statistics agree bit for bit when the stem's Float blocks align with the plain BN's (`exact`), else
/// within Float rounding; gradients within rounding. The fused path gives the same bits for 1, 2 and 3 threads.
@Test(arguments: fusionCases)
func fusedLayersMatchThePlainLayers(_ t: FusionCase) {
    var gen = SeededGenerator(seed: 31)
    var spec = ModelSpec(encoder: .convnetXS, head: .mlp, inputChannels: t.channels, inputHeight: t.size,
                         inputWidth: t.size, projectionDim: 8)
    spec.widthsOverride = t.widths
    var fused = Model(spec: spec, generator: &gen)
    // Running statistics that make eval mode meaningful: small means, variances around 1.
    for i in fused.buffers.indices {
        fused.buffers[i].storage = fused.buffers[i].storage.map { _ in
            i % 2 == 0 ? Float(0.1 * gen.normal()) : Float(0.5 + gen.nextDouble())
        }
    }
    var plain = fused
    plain.fusion = false
    let stem = t.channels * 9 <= ConvolutionGeometry.directColumnLimit
    #expect(fused.fusesStem(height: t.size, width: t.size) == stem && !plain.fusesStem(height: t.size, width: t.size))
    let B = t.batch
    let x = Tensor(shape: [B, t.channels, t.size, t.size],
                   storage: (0..<(B * t.channels * t.size * t.size)).map { _ in Float(gen.normal()) })
    let r = Tensor(shape: [B, 8], storage: (0..<(B * 8)).map { _ in Float(gen.normal()) })
    let mode: BatchNormMode = t.eval ? .eval : .train(groups: t.groups)
    let context = ComputeContext(threads: 2)
    let before = fused
    let a = fused.forward(x, mode: mode, context: context)
    let b = plain.forward(x, mode: mode, context: context)
    #expect((a.cache.stem != nil) == stem && b.cache.stem == nil)
    #expect(a.features.storage.filter { $0 != 0 }.count > a.features.count / 4, "most features are nonzero")
    func worstRelative(_ u: [Float], _ v: [Float]) -> Double {
        let scale = v.map { abs(Double($0)) }.max() ?? 0
        return (zip(u, v).map { abs(Double($0) - Double($1)) }.max() ?? 0) / max(scale, 1e-12)
    }
    let outputs = [("projection", a.projection.storage, b.projection.storage), ("features", a.features.storage, b.features.storage)]
        + zip(fused.bufferNames, zip(fused.buffers, plain.buffers)).map { ($0, $1.0.storage, $1.1.storage) }
    for (name, u, v) in outputs {
        if t.exact {
            #expect(u.map(\.bitPattern) == v.map(\.bitPattern), "\(name): fused forward differs in bits")
        } else {
            let worst = worstRelative(u, v)
            #expect(worst <= 1e-5, "\(name): fused forward differs by \(worst) (relative)")
        }
    }
    let ga = fused.backward(dProjection: r, cache: a.cache, context: context)
    let gb = plain.backward(dProjection: r, cache: b.cache, context: context)
    for (i, name) in fused.parameterNames.enumerated() {
        #expect(ga[i].storage.contains { $0 != 0 }, "\(name): gradient is not all zero")
        let worst = worstRelative(ga[i].storage, gb[i].storage)
        #expect(worst <= 1e-4, "\(name): fused gradient differs by \(worst) (relative)")
    }
    // Thread counts never change the fused path's bytes.
    for threads in [1, 3] {
        var other = before
        let c = ComputeContext(threads: threads)
        let o = other.forward(x, mode: mode, context: c)
        let go = other.backward(dProjection: r, cache: o.cache, context: c)
        #expect(o.projection.storage.map(\.bitPattern) == a.projection.storage.map(\.bitPattern), "\(threads) threads: projection")
        #expect(other.buffers == fused.buffers, "\(threads) threads: running statistics")
        #expect(zip(go, ga).allSatisfy { $0.storage.map(\.bitPattern) == $1.storage.map(\.bitPattern) }, "\(threads) threads: gradients")
    }
}

@Test func batchPartsCoverTheBatchInNearEqualParts() {
    for B in [1, 5, 8, 31, 32, 33, 100, 256, 1000] {
        let parts = ComputeContext.parts(batch: B)
        let ranges = (0..<parts).map { ComputeContext.partRange($0, batch: B) }
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == B, "B \(B)")
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "B \(B)")
        #expect(ranges.allSatisfy { !$0.isEmpty }, "B \(B)")
        #expect(ComputeContext.largestPart(batch: B) == ranges.map(\.count).max())
        #expect(ranges.map(\.count).max()! - ranges.map(\.count).min()! <= 1, "B \(B)")
    }
    #expect((0..<8).map { ComputeContext.partRange($0, batch: 256).count } == [32, 32, 32, 32, 32, 32, 32, 32])
    #expect(ComputeContext.parts(batch: 5) == 5 && ComputeContext.largestPart(batch: 100) == 13)
}

@Test func linearLayerGivesTheSameBytesWhateverTheThreadCount() {
    var gen = SeededGenerator(seed: 77)
    let B = 37, I = 50, O = 21
    let x = (0..<(B * I)).map { _ in Float(gen.normal()) }, w = (0..<(O * I)).map { _ in Float(gen.normal()) }
    let bias = (0..<O).map { _ in Float(gen.normal()) }, dy = (0..<(B * O)).map { _ in Float(gen.normal()) }
    let y1 = linearForward(x, rows: B, inputs: I, outputs: O, weight: w, bias: bias, threads: 1)
    let g1 = linearBackward(dy, input: x, rows: B, inputs: I, outputs: O, weight: w, computeInputGradient: true, threads: 1)
    for threads in [2, 3] {
        #expect(linearForward(x, rows: B, inputs: I, outputs: O, weight: w, bias: bias, threads: threads) == y1)
        let g = linearBackward(dy, input: x, rows: B, inputs: I, outputs: O, weight: w, computeInputGradient: true,
                               threads: threads)
        #expect(g.dx == g1.dx && g.dw == g1.dw && g.db == g1.db)
    }
    // Against the plain twin (Double sums): y = x·Wᵀ + b, dW = dYᵀ·x, dx = dY·W.
    for (r, o) in [(0, 0), (36, 20), (17, 9)] {
        var s = Double(bias[o]); for i in 0..<I { s += Double(x[r * I + i]) * Double(w[o * I + i]) }
        #expect(abs(Double(y1[r * O + o]) - s) < 1e-4)
    }
    for (o, i) in [(0, 0), (20, 49), (9, 13)] {
        var s = 0.0; for r in 0..<B { s += Double(dy[r * O + o]) * Double(x[r * I + i]) }
        #expect(abs(Double(g1.dw[o * I + i]) - s) < 1e-4)
    }
    for (r, i) in [(0, 0), (36, 49), (5, 31)] {
        var s = 0.0; for o in 0..<O { s += Double(dy[r * O + o]) * Double(w[o * I + i]) }
        #expect(abs(Double(g1.dx![r * I + i]) - s) < 1e-4)
    }
}

@Test func weightPermutationsRoundTripAndSumPartsInOrder() {
    var gen = SeededGenerator(seed: 78)
    let g = ConvolutionGeometry(inputChannels: 64, inputHeight: 5, inputWidth: 5, outputChannels: 70, kernelSize: 3,
                                stride: 1, padding: 1)   // 70·576 floats: the multi-threaded path
    let w = (0..<(70 * g.columnCount)).map { _ in Float(gen.normal()) }
    for threads in [1, 2, 3] {
        let columns = permuteWeightToColumns(w, g, threads: threads)
        // O×C×k×k element (o, c, ki, kj) sits at o·K + (ki·k + kj)·C + c.
        #expect(columns[3 * g.columnCount + (2 * 3 + 1) * 64 + 5] == w[((3 * 64 + 5) * 3 + 2) * 3 + 1])
        #expect(permuteColumnsToWeight(columns, g) == w)
        // Three part blocks: the permuted element-wise sum, added in part order.
        var blocks = columns + columns.map { $0 * 0.5 } + columns.map { -$0 * 0.25 }
        let summed = blocks.withUnsafeMutableBufferPointer {
            summedWeightColumns(SendablePointer($0.baseAddress!), parts: 3, g, threads: threads)
        }
        #expect(summed == w.map { ($0 + $0 * 0.5) + -$0 * 0.25 })
    }
}
