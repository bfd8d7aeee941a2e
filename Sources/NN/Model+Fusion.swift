// The model's fused layers (on unless `Model.fusion` is off; tests compare both paths):
// - the fused stem (Kernels/FusedStem.swift): conv1 → BN1 → ReLU → conv2 as one step whose cache is the padded
//   input images, so conv1's output (the largest activation) never sits in memory;
// - every later BN + ReLU applied by its consumer: the next convolution reads ReLU(BN(x)) through a normalising
//   source (forward and backward), and the pool averages it directly, so the normalised tensors y are never
//   written (the BN caches keep x, which the BN backward needs anyway). Same expressions: identical bits.
// Deliberately not here: the arithmetic (Kernels/), the plain layer sequence (Model.swift).

/// What backward needs from the fused stem: the zero-padded images and BN1's per-(group, channel) mean and 1/σ.
struct FusedStemCache: Sendable {
    let padded: [Float]
    /// B, H, W, C of the images.
    let imageShape: [Int]
    let mean: [Float]
    let inverseStd: [Float]
    let groups: Int
    let train: Bool
}

extension Model {
    /// The application of the BN of `stage` recorded in `cache`, with the parameters `p` (γ, β) of that pass.
    func application(of cache: BatchNormCache, stage: Int, parameters p: [Tensor]) -> BatchNormApplication {
        BatchNormApplication(mean: cache.mean, inverseStd: cache.inverseStd, gamma: p[3 * stage + 1].storage,
                             beta: p[3 * stage + 2].storage, imagesPerGroup: cache.input.shape[0] / cache.groups,
                             relu: cache.fusedReLU)
    }

    /// conv(stage)'s output from ReLU(BN(x)) of the previous stage, normalised image by image as the convolution
    /// reads it.
    func normalizedConvolutionForward(stage: Int, input previous: BatchNormCache, context: ComputeContext) -> Tensor {
        let x = previous.input, B = x.shape[0]
        let g = convolutions[stage].geometry(height: x.shape[1], width: x.shape[2])
        let y = NN.normalizedConvolutionForward(x.storage, batch: B, geometry: g,
                                                normalization: application(of: previous, stage: stage - 1, parameters: parameters),
                                                weight: parameters[3 * stage].storage, threads: context.threads)
        return Tensor(shape: [B, g.outputHeight, g.outputWidth, g.outputChannels], storage: y)
    }

    /// dX (the gradient of the previous BN's output) and dW of conv(stage) whose input was ReLU(BN(x)).
    /// dY is the next BN's backward after its pass 1: the convolution forms its dY group by group.
    func normalizedConvolutionBackward(stage: Int, dY: BatchNormGradientRows, input previous: BatchNormCache,
                                       parameters p: [Tensor], context: ComputeContext) -> (dX: Tensor, dWeight: Tensor) {
        let x = previous.input, B = x.shape[0]
        let g = convolutions[stage].geometry(height: x.shape[1], width: x.shape[2])
        require(dY.rows == B * g.outputPixels && dY.channels == g.outputChannels,
                "Model.backward: dY of \(dY.rows)×\(dY.channels) does not match conv\(stage + 1)'s output")
        let r = NN.normalizedConvolutionBackward(x.storage, batch: B, geometry: g,
                                                 normalization: application(of: previous, stage: stage - 1, parameters: p),
                                                 weight: p[3 * stage].storage, dOutput: dY.outputGradient,
                                                 threads: context.threads)
        return (Tensor(shape: x.shape, storage: r.dInput), Tensor(shape: convolutions[stage].weightShape, storage: r.dWeight))
    }

    /// h = the spatial mean of ReLU(BN(x)) of the last stage, and the pool's cache.
    func normalizedPoolForward(input previous: BatchNormCache, stage: Int, context: ComputeContext)
        -> (y: Tensor, cache: GlobalAveragePoolCache) {
        let x = previous.input, B = x.shape[0], C = x.shape[3]
        let h = normalizedGlobalAveragePool(x.storage, batch: B, spatial: x.shape[1] * x.shape[2], channels: C,
                                            normalization: application(of: previous, stage: stage, parameters: parameters),
                                            threads: context.threads)
        return (Tensor(shape: [B, C], storage: h), GlobalAveragePoolCache(inputShape: x.shape))
    }

    /// Whether stage 1 and stage 2's convolution run fused on inputs of this size: the switch is on, there are
    /// at least two stages, and conv1 is thin enough for the direct kernel (k·k·C ≤ 32: grey or RGB images).
    func fusesStem(height: Int, width: Int) -> Bool {
        fusion && convolutions.count >= 2
            && convolutions[0].geometry(height: height, width: width).columnCount <= ConvolutionGeometry.directColumnLimit
    }

    /// conv2's output (before BN2) from channels-last images x, the stem's cache, and BN1's new running
    /// statistics (train mode only).
    func stemForward(_ x: Tensor, mode: BatchNormMode, context: ComputeContext)
        -> (y: Tensor, cache: FusedStemCache, running: (mean: Tensor, variance: Tensor)?) {
        let B = x.shape[0]
        let g1 = convolutions[0].geometry(height: x.shape[1], width: x.shape[2])
        let g2 = convolutions[1].geometry(height: g1.outputHeight, width: g1.outputWidth)
        let bn = norms[0], O = g1.outputChannels, L = g1.outputPixels
        let wt = transposedWeightColumns(permuteWeightToColumns(parameters[0].storage, g1), g1)
        let padded = fusedStemPaddedImages(x.storage, batch: B, geometry: g1, threads: context.threads)
        var mean: [Float], inverseStd: [Float], groups = 1, train = false
        var running: (mean: Tensor, variance: Tensor)? = nil
        switch mode {
        case .train(let G):
            require(G > 0 && B % G == 0, "BatchNorm.forward: batch \(B) is not divisible into \(G) split-BN groups")
            require((B / G) * L > 1,
                    "BatchNorm.forward: each split-BN group needs more than one value per channel (batch \(B), groups \(G))")
            let (sums, shifts) = fusedStemSums(padded: padded, geometry: g1, weightTransposed: wt, batch: B, groups: G,
                                               threads: context.threads)
            let statistics = batchNormStatistics(shiftedSums: sums, shift: { shifts[$0 * O + $1] }, groups: G, channels: O,
                                                 count: Double((B / G) * L), epsilon: bn.epsilon)
            running = bn.updatedRunningStatistics(mean: statistics.mean, variance: statistics.variance, groups: G,
                                                   count: (B / G) * L, runningMean: buffers[0], runningVariance: buffers[1])
            mean = statistics.meanUsed
            inverseStd = statistics.inverseStd
            groups = G
            train = true
        case .eval:
            mean = buffers[0].storage
            inverseStd = bn.evalInverseStd(runningVariance: buffers[1])
        }
        let normalization = BatchNormApplication(mean: mean, inverseStd: inverseStd, gamma: parameters[1].storage,
                                                 beta: parameters[2].storage, imagesPerGroup: B / groups, relu: true)
        let y = fusedStemForward(padded: padded, geometry: g1, weightTransposed: wt, normalization: normalization, batch: B,
                                 geometry2: g2, weight2: parameters[3].storage, threads: context.threads)
        let cache = FusedStemCache(padded: padded, imageShape: x.shape, mean: mean, inverseStd: inverseStd, groups: groups, train: train)
        return (Tensor(shape: [B, g2.outputHeight, g2.outputWidth, g2.outputChannels], storage: y), cache, running)
    }

    /// conv1's dW, BN1's dγ and dβ, and conv2's dW from dL/d(conv2 output), with `p` the parameters of the
    /// forward pass; dY is BN2's backward after its pass 1 (conv2 forms its dY group by group).
    func stemBackward(dY: BatchNormGradientRows, cache: FusedStemCache, parameters p: [Tensor], context: ComputeContext)
        -> (dWeight1: Tensor, dGamma: Tensor, dBeta: Tensor, dWeight2: Tensor) {
        let B = cache.imageShape[0]
        let g1 = convolutions[0].geometry(height: cache.imageShape[1], width: cache.imageShape[2])
        let g2 = convolutions[1].geometry(height: g1.outputHeight, width: g1.outputWidth)
        require(dY.rows == B * g2.outputPixels && dY.channels == g2.outputChannels,
                "Model.backward: dY of \(dY.rows)×\(dY.channels) does not match the stem's output")
        let wt = transposedWeightColumns(permuteWeightToColumns(p[0].storage, g1), g1)
        let normalization = BatchNormApplication(mean: cache.mean, inverseStd: cache.inverseStd, gamma: p[1].storage,
                                                 beta: p[2].storage, imagesPerGroup: B / cache.groups, relu: true)
        let r = fusedStemBackward(padded: cache.padded, geometry: g1, weightTransposed: wt, normalization: normalization,
                                  groups: cache.groups, train: cache.train, batch: B, geometry2: g2,
                                  weight2: p[3].storage, dOutput: dY.outputGradient, threads: context.threads)
        return (Tensor(shape: convolutions[0].weightShape, storage: permuteColumnsToWeight(r.dWeight1Columns, g1)),
                Tensor(shape: [g1.outputChannels], storage: r.dGamma), Tensor(shape: [g1.outputChannels], storage: r.dBeta),
                Tensor(shape: convolutions[1].weightShape, storage: r.dWeight2))
    }
}
