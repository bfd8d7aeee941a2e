// Conv2d: a 2-d convolution without bias (the encoders follow every convolution with batch norm), as a
// forward/backward pair over channels-last image batches B×H×W×C (see Kernels/Convolution.swift for why).
// The weight keeps PyTorch's O×C×k×k order. The arithmetic lives in Kernels/Convolution.swift (im2col + sgemm).
// Deliberately not here: bias, dilation, groups, non-square kernels; the weight is passed in, not owned.
import SeededRandom

/// A square-kernel 2-d convolution with zero padding and no bias. Weight shape: O×C×k×k.
public struct Conv2d: Sendable, Equatable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// A convolution; defaults: 3×3 kernel, stride 1, padding 1.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int = 1) {
        require(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                "Conv2d: invalid configuration C=\(inputChannels) O=\(outputChannels) k=\(kernelSize) s=\(stride) p=\(padding)")
        self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
    }

    /// [outputChannels, inputChannels, kernelSize, kernelSize].
    public var weightShape: [Int] { [outputChannels, inputChannels, kernelSize, kernelSize] }

    /// The shapes of this convolution applied to an input of `height`×`width`.
    public func geometry(height: Int, width: Int) -> ConvolutionGeometry {
        ConvolutionGeometry(inputChannels: inputChannels, inputHeight: height, inputWidth: width,
                            outputChannels: outputChannels, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    /// Kaiming-normal weight (He et al. 2015), fan-out mode with ReLU gain as in torchvision's ResNets:
    /// N(0, 2 / (O·k·k)).
    public func initialWeight(generator: inout SeededGenerator) -> Tensor {
        let std = (2.0 / Double(outputChannels * kernelSize * kernelSize)).squareRoot()
        let count = weightShape.reduce(1, *)
        return Tensor(shape: weightShape, storage: (0..<count).map { _ in Float(std * generator.normal()) })
    }

    /// y[B×P×Q×O] from channels-last x[B×H×W×C]. The cache keeps x (the column matrix is rebuilt in backward).
    public func forward(_ x: Tensor, weight: Tensor, context: ComputeContext) -> (y: Tensor, cache: Conv2dCache) {
        require(x.shape.count == 4 && x.shape[3] == inputChannels,
                "Conv2d.forward: input shape \(x.shape) does not match \(inputChannels) input channels (want B×H×W×C)")
        require(weight.shape == weightShape, "Conv2d.forward: weight shape \(weight.shape), want \(weightShape)")
        let g = geometry(height: x.shape[1], width: x.shape[2])
        require(g.outputHeight > 0 && g.outputWidth > 0, "Conv2d.forward: input \(x.shape) is smaller than the kernel")
        let y = convolutionForward(input: x.storage, batch: x.shape[0], geometry: g, weight: weight.storage,
                                   threads: context.threads)
        return (Tensor(shape: [x.shape[0], g.outputHeight, g.outputWidth, outputChannels], storage: y),
                Conv2dCache(input: x))
    }

    /// dX (nil unless `computeInputGradient`, default true) and dWeight from dY.
    public func backward(dY: Tensor, weight: Tensor, cache: Conv2dCache, computeInputGradient: Bool = true,
                         context: ComputeContext) -> (dX: Tensor?, dWeight: Tensor) {
        let x = cache.input
        let g = geometry(height: x.shape[1], width: x.shape[2])
        require(dY.shape == [x.shape[0], g.outputHeight, g.outputWidth, outputChannels],
                "Conv2d.backward: dY shape \(dY.shape) does not match the forward output")
        let (dx, dw) = convolutionBackward(input: x.storage, batch: x.shape[0], geometry: g, weight: weight.storage,
                                           dOutput: dY.storage, computeInputGradient: computeInputGradient,
                                           threads: context.threads)
        return (dx.map { Tensor(shape: x.shape, storage: $0) }, Tensor(shape: weightShape, storage: dw))
    }
}

/// What Conv2d.backward needs from forward: the input.
public struct Conv2dCache: Sendable {
    public let input: Tensor
}
