// Linear: y = x·Wᵀ + b on B×I inputs (PyTorch's weight layout O×I), through sgemm in a fixed number of row blocks
// on the threads (Kernels/Dense.swift; bytes independent of the thread count). Deliberately not here: owning
// parameters, a bias-free variant.
import SeededRandom

/// A fully connected layer. Weight O×I, bias O.
public struct Linear: Sendable, Equatable {
    public let inputFeatures: Int
    public let outputFeatures: Int

    public init(inputFeatures: Int, outputFeatures: Int) {
        require(inputFeatures > 0 && outputFeatures > 0, "Linear: invalid sizes \(inputFeatures)→\(outputFeatures)")
        self.inputFeatures = inputFeatures; self.outputFeatures = outputFeatures
    }

    public var weightShape: [Int] { [outputFeatures, inputFeatures] }

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√I.
    public func initialParameters(generator: inout SeededGenerator) -> (weight: Tensor, bias: Tensor) {
        let bound = 1 / Double(inputFeatures).squareRoot()
        let w = (0..<(outputFeatures * inputFeatures)).map { _ in Float(generator.uniform(-bound, bound)) }
        let b = (0..<outputFeatures).map { _ in Float(generator.uniform(-bound, bound)) }
        return (Tensor(shape: weightShape, storage: w), Tensor(shape: [outputFeatures], storage: b))
    }

    /// y[B×O] = x[B×I]·Wᵀ + b.
    public func forward(_ x: Tensor, weight: Tensor, bias: Tensor, threads: Int = 1) -> (y: Tensor, cache: LinearCache) {
        require(x.shape.count == 2 && x.shape[1] == inputFeatures,
                "Linear.forward: input shape \(x.shape), want B×\(inputFeatures)")
        require(weight.shape == weightShape && bias.shape == [outputFeatures], "Linear.forward: parameter shapes")
        let y = linearForward(x.storage, rows: x.shape[0], inputs: inputFeatures, outputs: outputFeatures,
                              weight: weight.storage, bias: bias.storage, threads: threads)
        return (Tensor(shape: [x.shape[0], outputFeatures], storage: y), LinearCache(input: x))
    }

    /// dX (nil unless `computeInputGradient`, default true), dW = dYᵀ·x, db = column sums of dY.
    public func backward(dY: Tensor, weight: Tensor, cache: LinearCache, computeInputGradient: Bool = true,
                         threads: Int = 1) -> (dX: Tensor?, dWeight: Tensor, dBias: Tensor) {
        let x = cache.input
        require(dY.shape == [x.shape[0], outputFeatures], "Linear.backward: dY shape \(dY.shape)")
        let r = linearBackward(dY.storage, input: x.storage, rows: x.shape[0], inputs: inputFeatures,
                               outputs: outputFeatures, weight: weight.storage,
                               computeInputGradient: computeInputGradient, threads: threads)
        return (r.dx.map { Tensor(shape: x.shape, storage: $0) }, Tensor(shape: weightShape, storage: r.dw),
                Tensor(shape: [outputFeatures], storage: r.db))
    }
}

/// What Linear.backward needs: the input.
public struct LinearCache: Sendable {
    public let input: Tensor
}
