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
    /// Median milliseconds of the forward and backward passes.
    public let forwardMilliseconds: Double
    public let backwardMilliseconds: Double
    /// FLOPs of forward + backward (0 for layers without multiply-adds).
    public let flops: Double
    /// flops / (forward + backward time) in GFLOP/s; nil for layers without multiply-adds.
    public var gigaflopsPerSecond: Double? {
        flops > 0 ? flops / ((forwardMilliseconds + backwardMilliseconds) * 1e6) : nil
    }
}

/// Median wall time of `body` in milliseconds over `repeats` runs after one warm-up run.
func medianMilliseconds(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
}

/// Times each layer of `spec` on a random batch of `batch` images (BN in train mode with `groups` groups),
/// then the whole encoder (forward from the images to h, backward from dh to every encoder gradient).
public func benchmarkLayers(spec: ModelSpec, batch: Int, groups: Int = 1, repeats: Int = 5,
                            context: ComputeContext, seed: UInt64 = 1) -> [LayerTiming] {
    var gen = SeededGenerator(seed: seed)
    let model = Model(spec: spec, generator: &gen)
    let x = Tensor(shape: [batch, spec.inputChannels, spec.inputHeight, spec.inputWidth],
                   storage: (0..<(batch * spec.inputChannels * spec.inputHeight * spec.inputWidth)).map { _ in Float(gen.normal()) })
    var timings: [LayerTiming] = []
    var a = x
    var encoderFlops = 0.0
    for stage in 0..<model.convolutions.count {
        let conv = model.convolutions[stage], bn = model.norms[stage]
        let weight = model.parameters[3 * stage], gamma = model.parameters[3 * stage + 1], beta = model.parameters[3 * stage + 2]
        let input = a
        var convOut = conv.forward(input, weight: weight, context: context)
        let convForward = medianMilliseconds(repeats: repeats) { convOut = conv.forward(input, weight: weight, context: context) }
        let dY = Tensor(shape: convOut.y.shape, storage: (0..<convOut.y.count).map { _ in Float(gen.normal()) })
        let convBackward = medianMilliseconds(repeats: repeats) {
            _ = conv.backward(dY: dY, weight: weight, cache: convOut.cache, computeInputGradient: stage > 0, context: context)
        }
        let macs = Double(conv.geometry(height: input.shape[2], width: input.shape[3]).multiplyAddsPerImage * batch)
        let flops = 2 * macs * (stage > 0 ? 3 : 2)
        encoderFlops += flops
        timings.append(LayerTiming(name: "conv\(stage + 1)", kind: "conv", forwardMilliseconds: convForward,
                                   backwardMilliseconds: convBackward, flops: flops))
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
        timings.append(LayerTiming(name: "bn\(stage + 1)+relu", kind: "batchnorm+relu", forwardMilliseconds: bnForward,
                                   backwardMilliseconds: bnBackward, flops: 0))
        a = bnOut.y
    }
    let pool = GlobalAveragePool()
    var pooled = pool.forward(a)
    let poolForward = medianMilliseconds(repeats: repeats) { pooled = pool.forward(a) }
    let dh = Tensor(shape: pooled.y.shape, storage: (0..<pooled.y.count).map { _ in Float(gen.normal()) })
    let poolBackward = medianMilliseconds(repeats: repeats) { _ = pool.backward(dY: dh, cache: pooled.cache) }
    timings.append(LayerTiming(name: "pool", kind: "pool", forwardMilliseconds: poolForward,
                               backwardMilliseconds: poolBackward, flops: 0))
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
        timings.append(LayerTiming(name: name, kind: "linear", forwardMilliseconds: forward, backwardMilliseconds: backward,
                                   flops: 6 * Double(batch * layer.inputFeatures * layer.outputFeatures)))
        z = out.y
        if i + 1 < model.headLayers.count {
            let relu = ReLU()
            var r = relu.forward(z)
            let input = z
            let rf = medianMilliseconds(repeats: repeats) { r = relu.forward(input) }
            let rb = medianMilliseconds(repeats: repeats) { _ = relu.backward(dY: input, cache: r.cache) }
            timings.append(LayerTiming(name: "head.relu", kind: "relu", forwardMilliseconds: rf, backwardMilliseconds: rb, flops: 0))
            z = r.y
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
    timings.append(LayerTiming(name: "encoder", kind: "encoder", forwardMilliseconds: encoderForward,
                               backwardMilliseconds: encoderBackward, flops: encoderFlops))
    return timings
}
