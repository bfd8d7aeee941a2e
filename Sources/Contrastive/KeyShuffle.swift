// KeyShuffle: the single-device stand-in for MoCo's shuffle-BN. The key batch is permuted before the key
// encoder, so each split-BN group of keys holds other images than the matching group of queries, and the
// key projections are put back in query order afterwards.
// Deliberately not here: drawing the permutation (the learner draws it from its own seeded stream).
import NN

/// Row permutations of a batch: `shuffled` then `unshuffled` with the same permutation is the identity.
public enum KeyShuffle {
    /// out[i] = x[permutation[i]] along the first dimension.
    public static func shuffled(_ x: Tensor, permutation: [Int]) -> Tensor {
        precondition(permutation.count == x.batch, "KeyShuffle: permutation of \(permutation.count) for batch \(x.batch)")
        let item = x.itemSize
        var out = Tensor(shape: x.shape)
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (i, p) in permutation.enumerated() {
                    (dst.baseAddress! + i * item).update(from: src.baseAddress! + p * item, count: item)
                }
            }
        }
        return out
    }

    /// out[permutation[i]] = y[i] along the first dimension: undoes `shuffled`.
    public static func unshuffled(_ y: Tensor, permutation: [Int]) -> Tensor {
        precondition(permutation.count == y.batch, "KeyShuffle: permutation of \(permutation.count) for batch \(y.batch)")
        let item = y.itemSize
        var out = Tensor(shape: y.shape)
        y.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (i, p) in permutation.enumerated() {
                    (dst.baseAddress! + p * item).update(from: src.baseAddress! + i * item, count: item)
                }
            }
        }
        return out
    }
}
