// SGD with momentum and weight decay (PyTorch semantics, dampening 0, no Nesterov), the global gradient
// norm, and learning-rate schedules. Deliberately not here: other optimisers, gradient clipping, per-parameter
// options (weight decay applies to every parameter, as in MoCo's reference code).
import Foundation
import Parallel

/// Stochastic gradient descent: g ← ∇ + wd·p; v ← μ·v + g; p ← p − lr·v (v starts at 0, so the first step
/// has v = g as in PyTorch).
public struct SGD: Sendable, Equatable {
    /// The base learning rate (schedules scale it; `step` takes the rate to use).
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// Momentum buffers aligned with the parameters; empty until the first step.
    public var state: [Tensor]

    /// Defaults: momentum 0.9, weight decay 0.
    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.learningRate = learningRate; self.momentum = momentum; self.weightDecay = weightDecay
        self.state = []
    }

    /// One update of `parameters` with `gradients` (aligned, same shapes) at `learningRate`; long tensors are
    /// split over `threads` (elementwise, so the result never depends on it).
    public mutating func step(parameters: inout [Tensor], gradients: [Tensor], learningRate: Float, threads: Int = 1) {
        require(parameters.count == gradients.count,
                "SGD.step: \(parameters.count) parameters but \(gradients.count) gradients")
        if state.isEmpty { state = parameters.map { Tensor(shape: $0.shape) } }
        require(state.count == parameters.count, "SGD.step: optimizer state has \(state.count) buffers for \(parameters.count) parameters")
        for i in 0..<parameters.count {
            require(parameters[i].shape == gradients[i].shape && state[i].shape == parameters[i].shape,
                    "SGD.step: parameter \(i) shape \(parameters[i].shape), gradient \(gradients[i].shape)")
            sgdUpdate(&parameters[i].storage, gradients[i].storage, &state[i].storage,
                      learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, threads: threads)
        }
    }
}

/// The elementwise SGD update of one tensor.
@inline(__always)
func sgdUpdate(_ p: inout [Float], _ g: [Float], _ v: inout [Float], learningRate lr: Float, momentum mu: Float,
               weightDecay wd: Float, threads: Int = 1) {
    p.withUnsafeMutableBufferPointer { pb in
        v.withUnsafeMutableBufferPointer { vb in
            g.withUnsafeBufferPointer { gb in
                let pp = SendablePointer(pb), vp = SendablePointer(vb), gp = SendableConstPointer(gb)
                forEachElementChunk(pb.count, threads: threads) { _, range in
                    for i in range {
                        let d = gp.base[i] + wd * pp.base[i]
                        let m = mu * vp.base[i] + d
                        vp.base[i] = m
                        pp.base[i] -= lr * m
                    }
                }
            }
        }
    }
}

/// Elements per work item of the elementwise passes over parameters (SGD, the gradient norm, the key encoder's
/// moving average). Fixed, so partial sums per chunk never depend on the thread count.
public let parameterChunkElements = 16_384

/// Calls `body(chunk, range)` over the chunks of `parameterChunkElements` of 0..<count: on `threads` threads when
/// there are at least two full chunks (2·`parameterChunkElements` elements), on the caller otherwise (a dispatch
/// costs more than a short pass). The chunks are the same either way.
@inlinable
public func forEachElementChunk(_ count: Int, threads: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
    parallelChunks(count, chunkSize: parameterChunkElements, threads: count < 2 * parameterChunkElements ? 1 : threads,
                   body)
}

/// √(Σ g²) over all tensors, in Double: each tensor in chunks of `parameterChunkElements` (eight interleaved
/// partial sums per chunk, added in lane order), the chunks and the tensors added in order. Long tensors are split
/// over `threads`; the value never depends on it.
public func globalGradientNorm(_ gradients: [Tensor], threads: Int = 1) -> Double {
    var s = 0.0
    for g in gradients {
        let chunks = (g.storage.count + parameterChunkElements - 1) / parameterChunkElements
        let partial = [Double](unsafeUninitializedCapacity: chunks) { pb, initialised in
            let out = SendablePointer(pb)
            g.storage.withUnsafeBufferPointer { gb in
                let gp = SendableConstPointer(gb)
                forEachElementChunk(gb.count, threads: threads) { c, range in
                    var lanes = SIMD8<Double>(repeating: 0)
                    var i = range.lowerBound
                    while i + 8 <= range.upperBound {
                        let v = SIMD8<Double>(UnsafeRawPointer(gp.base + i).loadUnaligned(as: SIMD8<Float>.self))
                        lanes += v * v
                        i += 8
                    }
                    var sum = 0.0
                    for lane in 0..<8 { sum += lanes[lane] }
                    while i < range.upperBound { sum += Double(gp.base[i]) * Double(gp.base[i]); i += 1 }
                    out.base[c] = sum
                }
            }
            initialised = chunks
        }
        for v in partial { s += v }
    }
    return s.squareRoot()
}

/// A learning-rate schedule, evaluated per step from the fractional epoch e = epoch + stepInEpoch/stepsPerEpoch.
public enum LRSchedule: Codable, Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// Linear warm-up over `warmupEpochs` (rate base·(s+1)/W for global step s of W warm-up steps), then
    /// half-cosine from base to 0 over the remaining epochs: base·½(1 + cos(π·(e − warm-up)/(total − warm-up))).
    case cosine(warmupEpochs: Int)
    /// base·gamma^k where k is the number of milestones (epochs) ≤ the current epoch.
    case step(milestones: [Int], gamma: Double)

    /// The rate at step `stepInEpoch` (0-based) of `epoch` (0-based).
    public func learningRate(base: Float, epoch: Int, stepInEpoch: Int, stepsPerEpoch: Int, totalEpochs: Int) -> Float {
        let steps = max(1, stepsPerEpoch)
        switch self {
        case .constant:
            return base
        case .cosine(let warmupEpochs):
            let globalStep = epoch * steps + stepInEpoch
            let warmupSteps = max(0, warmupEpochs) * steps
            if globalStep < warmupSteps {
                return Float(Double(base) * Double(globalStep + 1) / Double(warmupSteps))
            }
            let span = Double(max(1, totalEpochs * steps - warmupSteps))
            let progress = min(1, Double(globalStep - warmupSteps) / span)
            return Float(Double(base) * 0.5 * (1 + cos(Double.pi * progress)))
        case .step(let milestones, let gamma):
            let drops = milestones.filter { $0 <= epoch }.count
            return Float(Double(base) * power(gamma, drops))
        }
    }
}

@inline(__always) private func power(_ x: Double, _ n: Int) -> Double {
    var r = 1.0
    for _ in 0..<max(0, n) { r *= x }
    return r
}
