// ReLU and global average pooling as forward/backward pairs. Deliberately not here: other activations,
// strided pooling (the encoders only pool globally).

/// max(x, 0) elementwise.
public struct ReLU: Sendable, Equatable {
    public init() {}

    public func forward(_ x: Tensor) -> (y: Tensor, cache: ReLUCache) {
        let y = Tensor(shape: x.shape, storage: reluForward(x.storage))
        return (y, ReLUCache(output: y))
    }

    /// dX = dY where the output was positive.
    public func backward(dY: Tensor, cache: ReLUCache) -> Tensor {
        require(dY.shape == cache.output.shape, "ReLU.backward: dY shape \(dY.shape), output \(cache.output.shape)")
        return Tensor(shape: dY.shape, storage: reluBackward(dY.storage, output: cache.output.storage))
    }
}

/// What ReLU.backward needs: the output.
public struct ReLUCache: Sendable {
    public let output: Tensor
}

/// Mean over the spatial positions of a channels-last batch: B×H×W×C → B×C.
public struct GlobalAveragePool: Sendable, Equatable {
    public init() {}

    public func forward(_ x: Tensor) -> (y: Tensor, cache: GlobalAveragePoolCache) {
        require(x.shape.count == 4, "GlobalAveragePool.forward: input shape \(x.shape), want B×H×W×C")
        let B = x.shape[0], L = x.shape[1] * x.shape[2], C = x.shape[3]
        return (Tensor(shape: [B, C], storage: globalAveragePoolForward(x.storage, batch: B, spatial: L, channels: C)),
                GlobalAveragePoolCache(inputShape: x.shape))
    }

    /// dX = dY / (H·W), broadcast.
    public func backward(dY: Tensor, cache: GlobalAveragePoolCache) -> Tensor {
        let s = cache.inputShape
        require(dY.shape == [s[0], s[3]], "GlobalAveragePool.backward: dY shape \(dY.shape), want \([s[0], s[3]])")
        return Tensor(shape: s, storage: globalAveragePoolBackward(dY.storage, batch: s[0], spatial: s[1] * s[2], channels: s[3]))
    }
}

/// What GlobalAveragePool.backward needs: the input shape.
public struct GlobalAveragePoolCache: Sendable {
    public let inputShape: [Int]
}
