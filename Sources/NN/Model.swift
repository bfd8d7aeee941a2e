// Model: an encoder (four conv-BN-ReLU stages + global average pool → h) and a projection head (→ z, not
// normalised), with parameters and BN buffers in flat arrays in a fixed order, so SGD, the EMA key-encoder
// update, checkpoints and gradient norms can walk them without knowing the layers.
// Images enter as B×C×H×W (the data loaders' layout) and are made channels-last once; every layer works on
// B×H×W×C inside (see Kernels/Convolution.swift for why). By default the fused kernels run (Model+Fusion.swift:
// conv1 recomputed per image instead of stored, each BN + ReLU applied by its consumer); `fusion = false` runs
// the plain layer sequence, which the tests use as the reference.
// Deliberately not here: L2 normalisation and losses (Losses.swift, Contrastive), optimisers (Optimizer.swift).
//
// Parameter order: for stage i = 1...4: conv{i}.weight, bn{i}.gamma, bn{i}.beta; then the head:
// linear: head.fc.weight, head.fc.bias; mlp: head.fc1.weight, head.fc1.bias, head.fc2.weight, head.fc2.bias.
// Buffer order: for stage i: bn{i}.running_mean, bn{i}.running_var.
import SeededRandom

/// The result of Model.forward.
public struct ModelOutput: Sendable {
    /// h, B×featureDim.
    public let features: Tensor
    /// z before L2 normalisation, B×projectionDim.
    public let projection: Tensor
    /// What Model.backward needs.
    public let cache: ModelCache
}

/// Per-layer caches of one forward pass.
public struct ModelCache: Sendable {
    /// Per stage; nil where the fused path keeps no such cache: the stem's conv1, BN1 and conv2, and (with
    /// fusion on) every convolution whose input is the previous BN applied on the fly (its BN cache holds that input).
    let convolutions: [Conv2dCache?]
    let norms: [BatchNormCache?]
    let stem: FusedStemCache?
    let pool: GlobalAveragePoolCache
    let head: [LinearCache]
    let headReLU: ReLUCache?
    let parametersUsed: [Tensor]
}

/// An encoder + projection head built from a `ModelSpec`.
public struct Model: Sendable {
    public let spec: ModelSpec
    /// All trainable tensors in the fixed order of `parameterNames`.
    public var parameters: [Tensor]
    /// BN running statistics in the fixed order of `bufferNames` (not averaged by the EMA).
    public var buffers: [Tensor]

    let convolutions: [Conv2d]
    let norms: [BatchNorm]
    let headLayers: [Linear]
    /// Whether the fused kernels run (default true; Model+Fusion.swift): conv1 → BN1 → ReLU → conv2 as the fused
    /// stem when conv1 is thin, and every later BN + ReLU applied by its consumer (the next convolution's input
    /// source, or the pool) instead of being written out. Off only in tests, which compare both paths.
    var fusion = true

    /// A freshly initialised model: Kaiming-normal convolutions (fan-out), BN γ = 1, β = 0, running mean 0,
    /// running variance 1, PyTorch-uniform linear layers. Draws from `generator` in parameter order.
    public init(spec: ModelSpec, generator: inout SeededGenerator) {
        self.init(layersOf: spec)
        var parameters: [Tensor] = [], buffers: [Tensor] = []
        for stage in 0..<convolutions.count {
            parameters.append(convolutions[stage].initialWeight(generator: &generator))
            let bn = norms[stage].initialParameters()
            parameters += [bn.gamma, bn.beta]
            buffers += [bn.runningMean, bn.runningVariance]
        }
        for layer in headLayers {
            let p = layer.initialParameters(generator: &generator)
            parameters += [p.weight, p.bias]
        }
        self.parameters = parameters
        self.buffers = buffers
    }

    /// The layers of `spec` with empty parameter lists (filled by the caller).
    init(layersOf spec: ModelSpec) {
        self.spec = spec
        let widths = spec.encoderWidths
        var convolutions: [Conv2d] = [], norms: [BatchNorm] = []
        var channels = spec.inputChannels
        for (stage, width) in widths.enumerated() {
            convolutions.append(Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3,
                                       stride: stage == 0 ? 1 : 2, padding: 1))
            norms.append(BatchNorm(channels: width))
            channels = width
        }
        self.convolutions = convolutions
        self.norms = norms
        switch spec.head {
        case .linear:
            headLayers = [Linear(inputFeatures: spec.featureDim, outputFeatures: spec.projectionDim)]
        case .mlp:
            headLayers = [Linear(inputFeatures: spec.featureDim, outputFeatures: spec.featureDim),
                          Linear(inputFeatures: spec.featureDim, outputFeatures: spec.projectionDim)]
        }
        parameters = []
        buffers = []
    }

    /// Names of `parameters`, e.g. "conv1.weight", "bn1.gamma", "head.fc2.bias".
    public var parameterNames: [String] {
        var names: [String] = []
        for stage in 1...convolutions.count { names += ["conv\(stage).weight", "bn\(stage).gamma", "bn\(stage).beta"] }
        if headLayers.count == 1 {
            names += ["head.fc.weight", "head.fc.bias"]
        } else {
            for i in 1...headLayers.count { names += ["head.fc\(i).weight", "head.fc\(i).bias"] }
        }
        return names
    }

    /// Names of `buffers`, e.g. "bn1.running_mean", "bn1.running_var".
    public var bufferNames: [String] {
        (1...norms.count).flatMap { ["bn\($0).running_mean", "bn\($0).running_var"] }
    }

    /// Shapes every parameter must have, in order.
    public var parameterShapes: [[Int]] {
        var shapes: [[Int]] = []
        for stage in 0..<convolutions.count {
            shapes += [convolutions[stage].weightShape, [norms[stage].channels], [norms[stage].channels]]
        }
        for layer in headLayers { shapes += [layer.weightShape, [layer.outputFeatures]] }
        return shapes
    }

    /// Shapes every buffer must have, in order.
    public var bufferShapes: [[Int]] {
        norms.flatMap { [[$0.channels], [$0.channels]] }
    }

    /// Forward pass on x (B×C×H×W as in the spec, the layout of the data loaders; the layers work channels-last
    /// inside). In train mode the BN running statistics are updated
    /// (momentum 0.1, unbiased variance); in eval mode nothing changes.
    public mutating func forward(_ x: Tensor, mode: BatchNormMode, context: ComputeContext) -> ModelOutput {
        let (output, newBuffers) = run(x, mode: mode, context: context)
        if let newBuffers { buffers = newBuffers }
        return output
    }

    /// Eval-mode features h for evaluation (kNN monitor, linear probe), `chunkSize` images at a time
    /// (default 256) to bound memory. Does not change the model.
    public func features(_ x: Tensor, context: ComputeContext, chunkSize: Int = 256) -> Tensor {
        let B = x.batch, item = x.itemSize, chunk = max(1, chunkSize)
        var h = [Float]()
        h.reserveCapacity(B * spec.featureDim)
        var start = 0
        while start < B {
            let end = min(B, start + chunk)
            let part = Tensor(shape: [end - start] + x.shape.dropFirst(),
                              storage: Array(x.storage[(start * item)..<(end * item)]))
            h += run(part, mode: .eval, context: context, projection: false).output.features.storage
            start = end
        }
        return Tensor(shape: [B, spec.featureDim], storage: h)
    }

    /// B×C×H×W → B×H×W×C (free when C = 1).
    func channelsLast(_ x: Tensor) -> Tensor {
        let B = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
        if C == 1 { return x.reshaped([B, H, W, 1]) }
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<B { for c in 0..<C { for i in 0..<(H * W) {
            out[(b * H * W + i) * C + c] = x.storage[(b * C + c) * H * W + i]
        }}}
        return Tensor(shape: [B, H, W, C], storage: out)
    }

    /// The forward pass without side effects; returns the new BN buffers in train mode.
    func run(_ x: Tensor, mode: BatchNormMode, context: ComputeContext,
             projection: Bool = true) -> (output: ModelOutput, newBuffers: [Tensor]?) {
        require(x.shape == [x.batch, spec.inputChannels, spec.inputHeight, spec.inputWidth],
                "Model.forward: input shape \(x.shape), the spec wants B×\(spec.inputChannels)×\(spec.inputHeight)×\(spec.inputWidth)")
        var a = channelsLast(x)
        var convCaches: [Conv2dCache?] = [], normCaches: [BatchNormCache?] = []
        var newBuffers: [Tensor] = []
        var stemCache: FusedStemCache? = nil
        // With fusion, the BN of the previous stage whose y = ReLU(x̂·γ + β) its consumer computes on the fly.
        var pending: BatchNormCache? = nil
        if fusesStem(height: spec.inputHeight, width: spec.inputWidth) {
            // Stages 1 and 2 up to conv2's output in one fused step; BN2 onwards as usual.
            let stem = stemForward(a, mode: mode, context: context)
            if let running = stem.running { newBuffers += [running.mean, running.variance] }
            stemCache = stem.cache
            convCaches += [nil, nil]
            normCaches.append(nil)
            a = stem.y
        }
        for stage in 0..<convolutions.count {
            let y: Tensor
            if stemCache != nil && stage == 0 { continue }
            if stemCache != nil && stage == 1 {
                y = a
            } else if let previous = pending {
                y = normalizedConvolutionForward(stage: stage, input: previous, context: context)
                convCaches.append(nil)
            } else {
                let (out, convCache) = convolutions[stage].forward(a, weight: parameters[3 * stage], context: context)
                convCaches.append(convCache)
                y = out
            }
            if fusion {
                let bn = norms[stage].statistics(y, runningMean: buffers[2 * stage], runningVariance: buffers[2 * stage + 1],
                                                 mode: mode, fusedReLU: true, context: context)
                if let m = bn.runningMean, let v = bn.runningVariance { newBuffers += [m, v] }
                normCaches.append(bn.cache)
                pending = bn.cache
            } else {
                let bn = norms[stage].forward(y, gamma: parameters[3 * stage + 1], beta: parameters[3 * stage + 2],
                                              runningMean: buffers[2 * stage], runningVariance: buffers[2 * stage + 1],
                                              mode: mode, fusedReLU: true, context: context)
                if let m = bn.runningMean, let v = bn.runningVariance { newBuffers += [m, v] }
                normCaches.append(bn.cache)
                a = bn.y
            }
        }
        let (h, poolCache) = pending.map { normalizedPoolForward(input: $0, stage: convolutions.count - 1, context: context) }
            ?? GlobalAveragePool().forward(a)
        var z = h
        var headCaches: [LinearCache] = [], reluCache: ReLUCache? = nil
        if projection {
            let base = 3 * convolutions.count
            for (i, layer) in headLayers.enumerated() {
                let (y, cache) = layer.forward(z, weight: parameters[base + 2 * i], bias: parameters[base + 2 * i + 1],
                                             threads: context.threads)
                headCaches.append(cache)
                z = y
                if i + 1 < headLayers.count {
                    let r = ReLU().forward(z)
                    reluCache = r.cache
                    z = r.y
                }
            }
        } else {
            z = Tensor(shape: [x.batch, 0])
        }
        let cache = ModelCache(convolutions: convCaches, norms: normCaches, stem: stemCache, pool: poolCache,
                               head: headCaches, headReLU: reluCache, parametersUsed: parameters)
        return (ModelOutput(features: h, projection: z, cache: cache), newBuffers.isEmpty ? nil : newBuffers)
    }

    /// Gradients of all parameters (aligned with `parameters`) from dL/dz (B×projectionDim).
    /// Uses the parameter values of the forward pass that made `cache`.
    public func backward(dProjection: Tensor, cache: ModelCache, context: ComputeContext) -> [Tensor] {
        backward(dProjection: dProjection, dFeatures: nil, cache: cache, context: context)
    }

    /// As `backward(dProjection:cache:context:)`, plus an optional extra gradient on h (B×featureDim) added to
    /// the one coming from the head.
    public func backward(dProjection: Tensor, dFeatures: Tensor?, cache: ModelCache,
                         context: ComputeContext) -> [Tensor] {
        require(cache.head.count == headLayers.count, "Model.backward: the cache has no head (made by features())")
        let p = cache.parametersUsed
        var gradients = [Tensor](repeating: Tensor(shape: [0]), count: p.count)
        let base = 3 * convolutions.count
        var dz = dProjection
        for i in stride(from: headLayers.count - 1, through: 0, by: -1) {
            if i + 1 < headLayers.count, let r = cache.headReLU { dz = ReLU().backward(dY: dz, cache: r) }
            let g = headLayers[i].backward(dY: dz, weight: p[base + 2 * i], cache: cache.head[i],
                                           threads: context.threads)
            gradients[base + 2 * i] = g.dWeight
            gradients[base + 2 * i + 1] = g.dBias
            if let dx = g.dX { dz = dx }
        }
        if let dFeatures {
            require(dFeatures.shape == dz.shape, "Model.backward: dFeatures shape \(dFeatures.shape), want \(dz.shape)")
            for i in 0..<dz.count { dz.storage[i] += dFeatures.storage[i] }
        }
        backwardEncoder(dFeatures: dz, cache: cache, context: context, into: &gradients)
        return gradients
    }

    /// The encoder part of backward: from dL/dh to the conv and BN gradients (written into `gradients`).
    func backwardEncoder(dFeatures: Tensor, cache: ModelCache, context: ComputeContext, into gradients: inout [Tensor]) {
        let p = cache.parametersUsed
        var da = GlobalAveragePool().backward(dY: dFeatures, cache: cache.pool)
        for stage in stride(from: convolutions.count - 1, through: 0, by: -1) {
            guard let normCache = cache.norms[stage] else { break }   // the fused stem's BN1: done below
            // BN's pass 1 here; its dX is formed by the convolution's backward where it reads its dY (fused
            // paths), or all at once for the plain layer.
            let bn = norms[stage].backwardRows(dY: da, gamma: p[3 * stage + 1], beta: p[3 * stage + 2],
                                               cache: normCache, context: context)
            gradients[3 * stage + 1] = Tensor(shape: [bn.channels], storage: bn.dGamma)
            gradients[3 * stage + 2] = Tensor(shape: [bn.channels], storage: bn.dBeta)
            if stage == 1, let stem = cache.stem {
                // conv2 with the fused stem: conv2, BN1 and conv1 in one pass.
                let g = stemBackward(dY: bn, cache: stem, parameters: p, context: context)
                gradients[0] = g.dWeight1
                gradients[1] = g.dGamma
                gradients[2] = g.dBeta
                gradients[3] = g.dWeight2
                break
            }
            if let convCache = cache.convolutions[stage] {
                let dX = Tensor(shape: normCache.input.shape, storage: bn.materialize(threads: context.threads))
                let conv = convolutions[stage].backward(dY: dX, weight: p[3 * stage], cache: convCache,
                                                        computeInputGradient: stage > 0, context: context)
                gradients[3 * stage] = conv.dWeight
                if let dx = conv.dX { da = dx }
            } else if let previous = cache.norms[stage - 1] {
                // The input was the previous BN applied on the fly.
                let conv = normalizedConvolutionBackward(stage: stage, dY: bn, input: previous, parameters: p,
                                                         context: context)
                gradients[3 * stage] = conv.dWeight
                da = conv.dX
            }
        }
    }
}
