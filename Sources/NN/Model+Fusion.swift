// The model's fused layers (on unless `Model.fusion` is off; tests compare both paths):
// - the fused stem (Kernels/FusedStem.swift): conv1 → BN1 → ReLU → conv2 as one step whose cache is the padded
//   input images, so conv1's output (the largest activation) never sits in memory;
// - every later BN + ReLU applied by its consumer: the next convolution reads ReLU(BN(x)) through a normalising
//   source (forward and backward), and the pool averages it directly, so the normalised tensors y are never
//   written (the BN caches keep x, which the BN backward needs anyway). Same expressions: identical bits.
// Deliberately not here: the arithmetic (Kernels/), the plain layer sequence (Model.swift).
import Parallel

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
    /// conv(stage)'s output from ReLU(BN(x)) of the previous stage, normalised image by image as the convolution
    /// reads it.
    func normalizedConvolutionForward(stage: Int, input previous: BatchNormCache, context: ComputeContext) -> Tensor {
        let x = previous.input, B = x.shape[0]
        let g = convolutions[stage].geometry(height: x.shape[1], width: x.shape[2])
        let y = withNormalizedSource(previous, gamma: parameters[3 * (stage - 1) + 1], beta: parameters[3 * (stage - 1) + 2]) { source in
            convolutionForward(source: source, batch: B, geometry: g, weight: parameters[3 * stage].storage,
                               threads: context.threads)
        }
        return Tensor(shape: [B, g.outputHeight, g.outputWidth, g.outputChannels], storage: y)
    }

    /// dX (the gradient of the previous BN's output) and dW of conv(stage) whose input was ReLU(BN(x)).
    func normalizedConvolutionBackward(stage: Int, dY: Tensor, input previous: BatchNormCache, parameters p: [Tensor],
                                       context: ComputeContext) -> (dX: Tensor, dWeight: Tensor) {
        let x = previous.input, B = x.shape[0]
        let g = convolutions[stage].geometry(height: x.shape[1], width: x.shape[2])
        require(dY.shape == [B, g.outputHeight, g.outputWidth, g.outputChannels],
                "Model.backward: dY shape \(dY.shape) does not match conv\(stage + 1)'s output")
        let r = withNormalizedSource(previous, gamma: p[3 * (stage - 1) + 1], beta: p[3 * (stage - 1) + 2]) { source in
            convolutionBackward(source: source, batch: B, geometry: g, weight: p[3 * stage].storage, dOutput: dY.storage,
                                inputGradient: .stored, threads: context.threads)
        }
        return (Tensor(shape: x.shape, storage: r.dInput ?? []),
                Tensor(shape: convolutions[stage].weightShape, storage: r.dWeight))
    }

    /// h = the spatial mean of ReLU(BN(x)) of the last stage, and the pool's cache.
    func normalizedPoolForward(input previous: BatchNormCache, stage: Int, context: ComputeContext)
        -> (y: Tensor, cache: GlobalAveragePoolCache) {
        let x = previous.input, B = x.shape[0], L = x.shape[1] * x.shape[2], C = x.shape[3]
        let h = NormalizationConstants.with(mean: previous.mean, inverseStd: previous.inverseStd,
                                            gamma: parameters[3 * stage + 1].storage, beta: parameters[3 * stage + 2].storage,
                                            imagesPerGroup: B / previous.groups, relu: previous.fusedReLU) { n in
            normalizedGlobalAveragePool(x.storage, batch: B, spatial: L, channels: C, constants: n, threads: context.threads)
        }
        return (Tensor(shape: [B, C], storage: h), GlobalAveragePoolCache(inputShape: x.shape))
    }

    /// Runs `body` with a convolution source that reads ReLU(BN(x)) of a BN's cached input.
    private func withNormalizedSource<R>(_ bn: BatchNormCache, gamma: Tensor, beta: Tensor,
                                         _ body: (ConvolutionSource) -> R) -> R {
        let x = bn.input, B = x.shape[0]
        return x.storage.withUnsafeBufferPointer { xb in
            NormalizationConstants.with(mean: bn.mean, inverseStd: bn.inverseStd, gamma: gamma.storage, beta: beta.storage,
                                        imagesPerGroup: B / bn.groups, relu: bn.fusedReLU) { n in
                body(normalizedSource(SendablePointer(xb.baseAddress!), rows: x.shape[1] * x.shape[2],
                                      channels: x.shape[3], constants: n))
            }
        }
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
            let (sums, shifts) = withStemInput(padded, geometry: g1, weightTransposed: wt) { input in
                fusedStemSums(input, batch: B, groups: G, threads: context.threads)
            }
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
        let y = withStemInput(padded, geometry: g1, weightTransposed: wt) { input in
            withNormalization(mean: mean, inverseStd: inverseStd, imagesPerGroup: B / groups) { n in
                convolutionForward(source: fusedStemSource(input, normalization: n), batch: B, geometry: g2,
                                   weight: parameters[3].storage, threads: context.threads)
            }
        }
        let cache = FusedStemCache(padded: padded, imageShape: x.shape, mean: mean, inverseStd: inverseStd, groups: groups, train: train)
        return (Tensor(shape: [B, g2.outputHeight, g2.outputWidth, g2.outputChannels], storage: y), cache, running)
    }

    /// conv1's dW, BN1's dγ and dβ, and conv2's dW from dL/d(conv2 output), with `p` the parameters of the
    /// forward pass.
    func stemBackward(dY: Tensor, cache: FusedStemCache, parameters p: [Tensor], context: ComputeContext)
        -> (dWeight1: Tensor, dGamma: Tensor, dBeta: Tensor, dWeight2: Tensor) {
        let B = cache.imageShape[0]
        let g1 = convolutions[0].geometry(height: cache.imageShape[1], width: cache.imageShape[2])
        let g2 = convolutions[1].geometry(height: g1.outputHeight, width: g1.outputWidth)
        require(dY.shape == [B, g2.outputHeight, g2.outputWidth, g2.outputChannels],
                "Model.backward: dY shape \(dY.shape) does not match the stem's output")
        let wt = transposedWeightColumns(permuteWeightToColumns(p[0].storage, g1), g1)
        let parts = ComputeContext.parts(batch: B), G = cache.groups
        let width = fusedStemAccumulatorWidth(g1)
        let accumulators = UnsafeMutablePointer<Double>.allocate(capacity: parts * G * width)
        defer { accumulators.deallocate() }
        accumulators.initialize(repeating: 0, count: parts * G * width)
        let dWeight2 = withStemInput(cache.padded, geometry: g1, weightTransposed: wt) { input in
            withNormalization(mean: cache.mean, inverseStd: cache.inverseStd, imagesPerGroup: B / G,
                              gamma: p[1].storage, beta: p[2].storage) { n in
                convolutionBackward(source: fusedStemSource(input, normalization: n), batch: B, geometry: g2,
                                    weight: p[3].storage, dOutput: dY.storage,
                                    inputGradient: fusedStemSink(input, normalization: n, groups: G,
                                                                 accumulators: SendablePointer(accumulators)),
                                    threads: context.threads).dWeight
            }
        }
        let r = fusedStemGradients(accumulators: accumulators, parts: parts, groups: G, geometry: g1,
                                   rowsPerGroup: (B / G) * g1.outputPixels, gamma: p[1].storage,
                                   inverseStd: cache.inverseStd, train: cache.train)
        return (Tensor(shape: convolutions[0].weightShape, storage: permuteColumnsToWeight(r.dWeightColumns, g1)),
                Tensor(shape: [g1.outputChannels], storage: r.dGamma), Tensor(shape: [g1.outputChannels], storage: r.dBeta),
                Tensor(shape: convolutions[1].weightShape, storage: dWeight2))
    }

    /// Runs `body` with the stem's input pointers (padded images, conv1's Wᵀ, element offsets), valid for the call.
    private func withStemInput<R>(_ padded: [Float], geometry g: ConvolutionGeometry, weightTransposed wt: [Float],
                                  _ body: (FusedStemInput) -> R) -> R {
        let offsets = paddedColumnOffsets(g)
        return padded.withUnsafeBufferPointer { pb in
            wt.withUnsafeBufferPointer { wb in
                offsets.withUnsafeBufferPointer { ob in
                    body(FusedStemInput(geometry: g, padded: SendablePointer(pb.baseAddress!),
                                        weightTransposed: SendablePointer(wb.baseAddress!),
                                        offsets: SendablePointer(ob.baseAddress!)))
                }
            }
        }
    }

    /// Runs `body` with BN1's constants (γ, β default to the current parameters), valid for the call.
    private func withNormalization<R>(mean: [Float], inverseStd: [Float], imagesPerGroup: Int, gamma: [Float]? = nil,
                                      beta: [Float]? = nil, _ body: (NormalizationConstants) -> R) -> R {
        NormalizationConstants.with(mean: mean, inverseStd: inverseStd, gamma: gamma ?? parameters[1].storage,
                                    beta: beta ?? parameters[2].storage, imagesPerGroup: imagesPerGroup, relu: true, body)
    }
}
