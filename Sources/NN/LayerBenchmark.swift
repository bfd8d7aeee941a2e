// Timing of every layer of an encoder + head, and of the whole encoder forward + backward, for
// `scorescope bench layers`. FLOPs count 2·multiply-adds of convolutions and linear layers only:
// forward 2·MACs, backward 2·MACs for dW plus 2·MACs for dX (not for the first convolution, which needs no dX).
// Deliberately not here: statistics beyond the median, or printing (the command prints JSON lines).
import Foundation
import SeededRandom

/// One timed layer (or "encoder" for the whole encoder).
public struct LayerTiming: Sendable, Codable {
    public let name: String
    /// "conv", "batchnorm+relu", "pool", "linear", "relu" or "encoder".
    public let kind: String
    /// Median wall-clock milliseconds of the forward and backward passes.
    public let forwardMilliseconds: Double
    public let backwardMilliseconds: Double
    /// Median process CPU milliseconds (all threads) of the same passes: on a shared, overloaded machine
    /// CPU time divided by the thread count shows what the wall time would be with the cores to ourselves.
    public var forwardCPUMilliseconds: Double = 0
    public var backwardCPUMilliseconds: Double = 0
    /// The fastest wall-clock run of each pass (the least disturbed by other processes).
    public var forwardFastestMilliseconds: Double = 0
    public var backwardFastestMilliseconds: Double = 0
    /// FLOPs of forward + backward (0 for layers without multiply-adds).
    public let flops: Double
    /// flops / (forward + backward time) in GFLOP/s; nil for layers without multiply-adds.
    public var gigaflopsPerSecond: Double? {
        flops > 0 ? flops / ((forwardMilliseconds + backwardMilliseconds) * 1e6) : nil
    }
}

/// A wall-clock and a CPU-time duration in milliseconds.
struct Duration2: Sendable { var wall: Double; var cpu: Double; var fastestWall: Double }

/// Process CPU time (all threads) in nanoseconds.
func processCPUNanoseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
}

/// Median wall and CPU time of `body` in milliseconds over `repeats` runs after one warm-up run.
func medianMilliseconds(repeats: Int, _ body: () -> Void) -> Duration2 {
    body()
    var walls: [Double] = [], cpus: [Double] = []
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUNanoseconds()
        body()
        walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        cpus.append((processCPUNanoseconds() - cpuStart) / 1e6)
    }
    walls.sort(); cpus.sort()
    return Duration2(wall: walls[walls.count / 2], cpu: cpus[cpus.count / 2], fastestWall: walls[0])
}

extension LayerTiming {
    init(name: String, kind: String, forward: Duration2, backward: Duration2, flops: Double) {
        self.init(name: name, kind: kind, forwardMilliseconds: forward.wall, backwardMilliseconds: backward.wall,
                  forwardCPUMilliseconds: forward.cpu, backwardCPUMilliseconds: backward.cpu,
                  forwardFastestMilliseconds: forward.fastestWall, backwardFastestMilliseconds: backward.fastestWall,
                  flops: flops)
    }
}

/// Times each layer of `spec` on a random batch of `batch` images (BN in train mode with `groups` groups),
/// then the whole encoder (forward from the images to h, backward from dh to every encoder gradient).
/// With `encoderOnly` (default false) only the whole-encoder line is measured.
public func benchmarkLayers(spec: ModelSpec, batch: Int, groups: Int = 1, repeats: Int = 5,
                            context: ComputeContext, seed: UInt64 = 1, encoderOnly: Bool = false) -> [LayerTiming] {
    var gen = SeededGenerator(seed: seed)
    let model = Model(spec: spec, generator: &gen)
    let x = Tensor(shape: [batch, spec.inputChannels, spec.inputHeight, spec.inputWidth],
                   storage: (0..<(batch * spec.inputChannels * spec.inputHeight * spec.inputWidth)).map { _ in Float(gen.normal()) })
    var timings: [LayerTiming] = []
    var encoderFlops = 0.0
    var height = spec.inputHeight, width = spec.inputWidth
    for (stage, conv) in model.convolutions.enumerated() {
        let g = conv.geometry(height: height, width: width)
        encoderFlops += 2 * Double(g.multiplyAddsPerImage * batch) * (stage > 0 ? 3 : 2)
        height = g.outputHeight; width = g.outputWidth
    }
    var a = model.channelsLast(x)
    for stage in 0..<(encoderOnly ? 0 : model.convolutions.count) {
        let conv = model.convolutions[stage], bn = model.norms[stage]
        let weight = model.parameters[3 * stage], gamma = model.parameters[3 * stage + 1], beta = model.parameters[3 * stage + 2]
        let input = a
        var convOut = conv.forward(input, weight: weight, context: context)
        let convForward = medianMilliseconds(repeats: repeats) { convOut = conv.forward(input, weight: weight, context: context) }
        let dY = Tensor(shape: convOut.y.shape, storage: (0..<convOut.y.count).map { _ in Float(gen.normal()) })
        let convBackward = medianMilliseconds(repeats: repeats) {
            _ = conv.backward(dY: dY, weight: weight, cache: convOut.cache, computeInputGradient: stage > 0, context: context)
        }
        let macs = Double(conv.geometry(height: input.shape[1], width: input.shape[2]).multiplyAddsPerImage * batch)
        let flops = 2 * macs * (stage > 0 ? 3 : 2)
        timings.append(LayerTiming(name: "conv\(stage + 1)", kind: "conv", forward: convForward,
                                   backward: convBackward, flops: flops))
        let mode = BatchNormMode.train(groups: groups)
        var bnOut = bn.forward(convOut.y, gamma: gamma, beta: beta, runningMean: model.buffers[2 * stage],
                               runningVariance: model.buffers[2 * stage + 1], mode: mode, fusedReLU: true, context: context)
        let bnForward = medianMilliseconds(repeats: repeats) {
            bnOut = bn.forward(convOut.y, gamma: gamma, beta: beta, runningMean: model.buffers[2 * stage],
                               runningVariance: model.buffers[2 * stage + 1], mode: mode, fusedReLU: true, context: context)
        }
        let bnBackward = medianMilliseconds(repeats: repeats) {
            _ = bn.backward(dY: dY, gamma: gamma, beta: beta, cache: bnOut.cache, context: context)
        }
        timings.append(LayerTiming(name: "bn\(stage + 1)+relu", kind: "batchnorm+relu", forward: bnForward,
                                   backward: bnBackward, flops: 0))
        a = bnOut.y
    }
    var dh = Tensor(shape: [batch, spec.featureDim], storage: (0..<(batch * spec.featureDim)).map { _ in Float(gen.normal()) })
    if !encoderOnly {
    let pool = GlobalAveragePool()
    var pooled = pool.forward(a)
    let poolForward = medianMilliseconds(repeats: repeats) { pooled = pool.forward(a) }
    dh = Tensor(shape: pooled.y.shape, storage: (0..<pooled.y.count).map { _ in Float(gen.normal()) })
    let poolBackward = medianMilliseconds(repeats: repeats) { _ = pool.backward(dY: dh, cache: pooled.cache) }
    timings.append(LayerTiming(name: "pool", kind: "pool", forward: poolForward,
                               backward: poolBackward, flops: 0))
    var z = pooled.y
    let base = 3 * model.convolutions.count
    for (i, layer) in model.headLayers.enumerated() {
        let w = model.parameters[base + 2 * i], b = model.parameters[base + 2 * i + 1]
        let input = z
        var out = layer.forward(input, weight: w, bias: b)
        let forward = medianMilliseconds(repeats: repeats) { out = layer.forward(input, weight: w, bias: b) }
        let dY = Tensor(shape: out.y.shape, storage: (0..<out.y.count).map { _ in Float(gen.normal()) })
        let backward = medianMilliseconds(repeats: repeats) { _ = layer.backward(dY: dY, weight: w, cache: out.cache) }
        let name = model.headLayers.count == 1 ? "head.fc" : "head.fc\(i + 1)"
        timings.append(LayerTiming(name: name, kind: "linear", forward: forward, backward: backward,
                                   flops: 6 * Double(batch * layer.inputFeatures * layer.outputFeatures)))
        z = out.y
        if i + 1 < model.headLayers.count {
            let relu = ReLU()
            var r = relu.forward(z)
            let input = z
            let rf = medianMilliseconds(repeats: repeats) { r = relu.forward(input) }
            let rb = medianMilliseconds(repeats: repeats) { _ = relu.backward(dY: input, cache: r.cache) }
            timings.append(LayerTiming(name: "head.relu", kind: "relu", forward: rf, backward: rb, flops: 0))
            z = r.y
        }
    }
    }
    // The whole encoder, as the learner runs it.
    var run = model.run(x, mode: .train(groups: groups), context: context, projection: false)
    let encoderForward = medianMilliseconds(repeats: repeats) {
        run = model.run(x, mode: .train(groups: groups), context: context, projection: false)
    }
    let encoderBackward = medianMilliseconds(repeats: repeats) {
        var gradients = [Tensor](repeating: Tensor(shape: [0]), count: model.parameters.count)
        model.backwardEncoder(dFeatures: dh, cache: run.output.cache, context: context, into: &gradients)
    }
    timings.append(LayerTiming(name: "encoder", kind: "encoder", forward: encoderForward,
                               backward: encoderBackward, flops: encoderFlops))
    return timings
}

/// One convolution timed both ways: the plain im2col + sgemm path and the padding-aware one
/// (Kernels/ConvolutionPixelClasses.swift). Forward + backward (dX too, except for the first layer).
public struct ConvolutionPathTiming: Sendable {
    public let name: String
    /// Fraction of multiply-adds the pixel classes skip; nil when the layer keeps the plain path.
    public let savedFraction: Double?
    /// Median wall and CPU milliseconds of forward + backward, plain and padding-aware.
    public let plainMilliseconds: Double, classedMilliseconds: Double
    public let plainCPUMilliseconds: Double, classedCPUMilliseconds: Double
}

/// Times every convolution of `spec` on random inputs of the layer's real shape, the plain and the padding-aware
/// path alternately in each of `repeats` rounds (after one warm-up of each), so that a change in the machine's
/// load hits both alike. Layers without a pixel-class plan are timed once per round (both columns the same path).
public func benchmarkConvolutionPaths(spec: ModelSpec, batch: Int, repeats: Int = 10,
                                      context: ComputeContext, seed: UInt64 = 1) -> [ConvolutionPathTiming] {
    var gen = SeededGenerator(seed: seed)
    let model = Model(spec: spec, generator: &gen)
    var height = spec.inputHeight, width = spec.inputWidth
    var timings: [ConvolutionPathTiming] = []
    for (stage, conv) in model.convolutions.enumerated() {
        let g = conv.geometry(height: height, width: width)
        height = g.outputHeight; width = g.outputWidth
        let x = (0..<(batch * g.inputSize)).map { _ in Float(gen.normal()) }
        let dy = (0..<(batch * g.outputSize)).map { _ in Float(gen.normal()) }
        let w = model.parameters[3 * stage].storage
        // Thin layers run the direct kernels whatever the plan says.
        let plan = g.columnCount > ConvolutionGeometry.directColumnLimit
            ? PixelClassPlan(g, partSize: ComputeContext.largestPart(batch: batch)) : nil
        func pass(_ classes: Bool) {
            _ = convolutionForward(input: x, batch: batch, geometry: g, weight: w, threads: context.threads,
                                   pixelClasses: classes)
            _ = convolutionBackward(input: x, batch: batch, geometry: g, weight: w, dOutput: dy,
                                    computeInputGradient: stage > 0, threads: context.threads, pixelClasses: classes)
        }
        func timed(_ classes: Bool) -> (wall: Double, cpu: Double) {
            let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUNanoseconds()
            pass(classes)
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6, (processCPUNanoseconds() - cpuStart) / 1e6)
        }
        pass(false)
        if plan != nil { pass(true) }
        var plain: [(wall: Double, cpu: Double)] = [], classed: [(wall: Double, cpu: Double)] = []
        for round in 0..<max(1, repeats) {
            if plan == nil {
                // One path only: time it once and report it in both columns.
                let t = timed(false)
                plain.append(t); classed.append(t)
            } else if round % 2 == 0 {
                // Alternate which path goes first, so neither always runs right after the other.
                plain.append(timed(false)); classed.append(timed(true))
            } else {
                classed.append(timed(true)); plain.append(timed(false))
            }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        timings.append(ConvolutionPathTiming(name: "conv\(stage + 1)", savedFraction: plan?.savedFraction,
                                             plainMilliseconds: median(plain.map(\.wall)),
                                             classedMilliseconds: median(classed.map(\.wall)),
                                             plainCPUMilliseconds: median(plain.map(\.cpu)),
                                             classedCPUMilliseconds: median(classed.map(\.cpu))))
    }
    return timings
}
