// BatchNorm: batch normalisation over the last (channel) dimension of B×C (1-d) or B×H×W×C (2-d) tensors, in train
// mode (batch statistics, optionally per group of sub-batches: split-BN) or eval mode (running statistics),
// optionally fused with the following ReLU. Running statistics follow PyTorch: momentum 0.1, unbiased variance;
// with G groups each group updates a copy and the copies are averaged (as MoCo's SplitBatchNorm does).
// Deliberately not here: the arithmetic (Kernels/Normalization.swift), owning parameters or buffers.

/// How batch norm computes its statistics.
public enum BatchNormMode: Sendable, Equatable {
    /// Batch statistics per contiguous group of B/G samples (split-BN; G = 1 is plain BN). B must be divisible
    /// by G and each group must hold more than one value per channel.
    case train(groups: Int)
    /// The running statistics; nothing is updated.
    case eval
}

/// Batch normalisation with affine γ/β (parameters passed in). ε = 1e-5, running-statistics momentum 0.1.
public struct BatchNorm: Sendable, Equatable {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float

    /// Defaults: epsilon 1e-5, momentum 0.1 (PyTorch's).
    public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        require(channels > 0, "BatchNorm: channels must be positive, got \(channels)")
        self.channels = channels; self.epsilon = epsilon; self.momentum = momentum
    }

    /// γ = 1, β = 0, running mean 0, running variance 1.
    public func initialParameters() -> (gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor) {
        (Tensor(shape: [channels], value: 1), Tensor(shape: [channels]),
         Tensor(shape: [channels]), Tensor(shape: [channels], value: 1))
    }

    /// Normalises x (B×C or channels-last B×H×W×C); applies max(·, 0) afterwards when `fusedReLU` (default false).
    /// In train mode also returns the updated running statistics (nil in eval mode).
    public func forward(_ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVariance: Tensor,
                        mode: BatchNormMode, fusedReLU: Bool = false, context: ComputeContext) -> BatchNormOutput {
        require(gamma.count == channels && beta.count == channels,
                "BatchNorm.forward: parameter sizes differ from \(channels)")
        let s = statistics(x, runningMean: runningMean, runningVariance: runningVariance, mode: mode,
                           fusedReLU: fusedReLU, context: context)
        let rows = x.count / channels
        let y = normalizeRows(x.storage, rows: rows, channels: channels, rowsPerGroup: rows / s.cache.groups,
                              mean: s.cache.mean, inverseStd: s.cache.inverseStd, gamma: gamma.storage,
                              beta: beta.storage, relu: fusedReLU, threads: context.threads)
        return BatchNormOutput(y: Tensor(shape: x.shape, storage: y), cache: s.cache, runningMean: s.runningMean,
                               runningVariance: s.runningVariance)
    }

    /// The statistics half of `forward`: the cache (x and the mean and 1/σ it normalises with) and, in train mode,
    /// the new running statistics. y itself is left to the consumer: `forward`, or a layer that normalises x on
    /// the fly (Model+Fusion.swift).
    func statistics(_ x: Tensor, runningMean: Tensor, runningVariance: Tensor, mode: BatchNormMode, fusedReLU: Bool,
                    context: ComputeContext) -> (cache: BatchNormCache, runningMean: Tensor?, runningVariance: Tensor?) {
        require((x.shape.count == 2 || x.shape.count == 4) && x.shape[x.shape.count - 1] == channels,
                "BatchNorm.forward: input shape \(x.shape) does not match \(channels) channels (want B×C or B×H×W×C)")
        require(runningMean.count == channels && runningVariance.count == channels,
                "BatchNorm.forward: parameter sizes differ from \(channels)")
        let B = x.shape[0], L = x.shape.count == 4 ? x.shape[1] * x.shape[2] : 1
        switch mode {
        case .train(let groups):
            require(groups > 0 && B % groups == 0,
                    "BatchNorm.forward: batch \(B) is not divisible into \(groups) split-BN groups")
            require((B / groups) * L > 1,
                    "BatchNorm.forward: each split-BN group needs more than one value per channel (batch \(B), groups \(groups))")
            let r = batchNormTrainStatistics(x.storage, rows: B * L, channels: channels, groups: groups,
                                             epsilon: epsilon, threads: context.threads)
            let running = updatedRunningStatistics(mean: r.mean, variance: r.variance, groups: groups,
                                                   count: (B / groups) * L, runningMean: runningMean,
                                                   runningVariance: runningVariance)
            return (BatchNormCache(input: x, mean: r.meanUsed, inverseStd: r.inverseStd, groups: groups, train: true,
                                   fusedReLU: fusedReLU), running.mean, running.variance)
        case .eval:
            return (BatchNormCache(input: x, mean: runningMean.storage,
                                   inverseStd: evalInverseStd(runningVariance: runningVariance), groups: 1, train: false,
                                   fusedReLU: fusedReLU), nil, nil)
        }
    }

    /// The running statistics after a train-mode pass with these batch statistics (G×C means and biased
    /// variances over `count` values each): each group updates its own copy, the copies are averaged (Double).
    func updatedRunningStatistics(mean: [Double], variance: [Double], groups: Int, count: Int,
                                  runningMean: Tensor, runningVariance: Tensor) -> (mean: Tensor, variance: Tensor) {
        let n = Double(count), m = Double(momentum)
        var newMean = [Float](repeating: 0, count: channels), newVariance = newMean
        for c in 0..<channels {
            var meanSum = 0.0, varianceSum = 0.0
            for g in 0..<groups {
                meanSum += mean[g * channels + c]
                varianceSum += variance[g * channels + c] * n / (n - 1)
            }
            newMean[c] = Float((1 - m) * Double(runningMean.storage[c]) + m * meanSum / Double(groups))
            newVariance[c] = Float((1 - m) * Double(runningVariance.storage[c]) + m * varianceSum / Double(groups))
        }
        return (Tensor(shape: [channels], storage: newMean), Tensor(shape: [channels], storage: newVariance))
    }

    /// 1/√(running variance + ε) per channel, as eval mode uses it.
    func evalInverseStd(runningVariance: Tensor) -> [Float] {
        runningVariance.storage.map { Float(1 / (Double($0) + Double(epsilon)).squareRoot()) }
    }

    /// dX, dγ, dβ from dY (the gradient of the output after the fused ReLU, if any). `gamma`/`beta` are the
    /// values used in forward.
    public func backward(dY: Tensor, gamma: Tensor, beta: Tensor, cache: BatchNormCache,
                         context: ComputeContext) -> (dX: Tensor, dGamma: Tensor, dBeta: Tensor) {
        let x = cache.input
        require(dY.shape == x.shape, "BatchNorm.backward: dY shape \(dY.shape), forward output \(x.shape)")
        require(gamma.shape == [channels] && beta.shape == [channels], "BatchNorm.backward: parameter shapes")
        let r = batchNormBackward(dY.storage, input: x.storage, rows: x.count / channels, channels: channels,
                                  groups: cache.groups, mean: cache.mean, inverseStd: cache.inverseStd, gamma: gamma.storage,
                                  beta: beta.storage, relu: cache.fusedReLU, train: cache.train,
                                  threads: context.threads)
        return (Tensor(shape: x.shape, storage: r.dx), Tensor(shape: [channels], storage: r.dGamma),
                Tensor(shape: [channels], storage: r.dBeta))
    }

    /// Backward's pass 1 only (dγ, dβ and what forms dX row by row): for a convolution before this BN, whose
    /// backward then forms its dY where it reads it instead of reading a stored dX (Model+Fusion.swift).
    func backwardRows(dY: Tensor, gamma: Tensor, beta: Tensor, cache: BatchNormCache,
                      context: ComputeContext) -> BatchNormGradientRows {
        let x = cache.input
        require(dY.shape == x.shape, "BatchNorm.backward: dY shape \(dY.shape), forward output \(x.shape)")
        require(gamma.shape == [channels] && beta.shape == [channels], "BatchNorm.backward: parameter shapes")
        return batchNormGradientRows(dY.storage, input: x.storage, rows: x.count / channels, channels: channels,
                                     groups: cache.groups, mean: cache.mean, inverseStd: cache.inverseStd,
                                     gamma: gamma.storage, beta: beta.storage, relu: cache.fusedReLU,
                                     train: cache.train, threads: context.threads)
    }
}

/// The result of BatchNorm.forward.
public struct BatchNormOutput: Sendable {
    public let y: Tensor
    public let cache: BatchNormCache
    /// Updated running mean/variance (train mode only; nil in eval mode).
    public let runningMean: Tensor?
    public let runningVariance: Tensor?
}

/// What BatchNorm.backward needs: the input, the mean and 1/σ used per (group, channel), and how forward ran.
public struct BatchNormCache: Sendable {
    public let input: Tensor
    public let mean: [Float]
    public let inverseStd: [Float]
    public let groups: Int
    public let train: Bool
    public let fusedReLU: Bool
}
