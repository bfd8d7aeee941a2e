// SGD with momentum and weight decay (PyTorch semantics, dampening 0, no Nesterov), the global gradient
// norm, and learning-rate schedules. Deliberately not here: other optimisers, gradient clipping, per-parameter
// options (weight decay applies to every parameter, as in MoCo's reference code).
import Foundation

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

    /// One update of `parameters` with `gradients` (aligned, same shapes) at `learningRate`.
    public mutating func step(parameters: inout [Tensor], gradients: [Tensor], learningRate: Float) {
        require(parameters.count == gradients.count,
                "SGD.step: \(parameters.count) parameters but \(gradients.count) gradients")
        if state.isEmpty { state = parameters.map { Tensor(shape: $0.shape) } }
        require(state.count == parameters.count, "SGD.step: optimizer state has \(state.count) buffers for \(parameters.count) parameters")
        for i in 0..<parameters.count {
            require(parameters[i].shape == gradients[i].shape && state[i].shape == parameters[i].shape,
                    "SGD.step: parameter \(i) shape \(parameters[i].shape), gradient \(gradients[i].shape)")
            sgdUpdate(&parameters[i].storage, gradients[i].storage, &state[i].storage,
                      learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        }
    }
}

/// The elementwise SGD update of one tensor.
@inline(__always)
func sgdUpdate(_ p: inout [Float], _ g: [Float], _ v: inout [Float], learningRate lr: Float, momentum mu: Float,
               weightDecay wd: Float) {
    let n = p.count
    p.withUnsafeMutableBufferPointer { pb in
        v.withUnsafeMutableBufferPointer { vb in
            g.withUnsafeBufferPointer { gb in
                for i in 0..<n {
                    let d = gb[i] + wd * pb[i]
                    let m = mu * vb[i] + d
                    vb[i] = m
                    pb[i] -= lr * m
                }
            }
        }
    }
}

/// √(Σ g²) over all tensors, summed in Double in tensor order.
public func globalGradientNorm(_ gradients: [Tensor]) -> Double {
    var s = 0.0
    for g in gradients { for v in g.storage { s += Double(v) * Double(v) } }
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
