// MomentumUpdate: MoCo's key-encoder update θ_k ← m·θ_k + (1−m)·θ_q (He et al., CVPR 2020, eq. 2) and the
// schedule of m. Parameters only: BN running statistics are the key encoder's own (method.md, pitfall 4), so
// this never sees buffers. m = 0 copies the query encoder, m = 1 leaves the key encoder untouched, exactly.
// Deliberately not here: any averaging of buffers or optimizer state.
import NN
import Parallel
#if canImport(Glibc)
import Glibc
#endif

/// How the key momentum evolves over training.
public enum MomentumSchedule: String, Codable, Sendable, CaseIterable {
    /// m stays at its base value (the default).
    case constant
    /// m rises from its base value to 1 along a half cosine over the training steps (BYOL's schedule):
    /// m(t) = 1 − (1 − m₀)·(cos(π t/T) + 1)/2.
    case cosine

    /// The momentum at `step` (0-based) of `totalSteps`; `base` is m₀ ∈ [0, 1].
    public func momentum(base: Double, step: Int, totalSteps: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .cosine:
            guard totalSteps > 0 else { return base }
            let t = Double(min(max(step, 0), totalSteps)) / Double(totalSteps)
            return 1 - (1 - base) * (cos(Double.pi * t) + 1) / 2
        }
    }
}

/// θ_k ← m·θ_k + (1−m)·θ_q for every tensor, in place. `key` and `query` must have the same shapes. Long
/// tensors are split over `threads` (elementwise: the result never depends on it).
public func momentumUpdate(key: inout [Tensor], query: [Tensor], momentum: Float, threads: Int = 1) {
    precondition(key.count == query.count, "momentumUpdate: \(key.count) key tensors, \(query.count) query tensors")
    let m = momentum, rest = 1 - momentum
    for t in key.indices {
        precondition(key[t].shape == query[t].shape, "momentumUpdate: tensor \(t) shapes \(key[t].shape) vs \(query[t].shape)")
        query[t].storage.withUnsafeBufferPointer { qb in
            key[t].storage.withUnsafeMutableBufferPointer { kb in
                let q = SendableConstPointer(qb), k = SendablePointer(kb)
                forEachElementChunk(kb.count, threads: threads) { _, range in
                    for i in range { k.base[i] = m * k.base[i] + rest * q.base[i] }
                }
            }
        }
    }
}
