// ModelSpec: which encoder and head to build, for which input size. Codable, so configs and checkpoints carry it.
// Deliberately not here: the layers themselves (Model.swift).

/// The convolutional encoders: four conv3×3 + BN + ReLU stages (strides 1, 2, 2, 2; padding 1; no conv bias)
/// and a global average pool to the feature vector h.
public enum EncoderKind: String, Codable, Sendable, CaseIterable {
    /// Widths 32-64-128-256, h has 256 dimensions.
    case convnetS = "convnet-s"
    /// Widths 16-32-64-128, h has 128 dimensions (fast presets).
    case convnetXS = "convnet-xs"

    /// Output channels of the four stages.
    public var widths: [Int] {
        switch self {
        case .convnetS: [32, 64, 128, 256]
        case .convnetXS: [16, 32, 64, 128]
        }
    }
}

/// The projection head on top of h.
public enum HeadKind: String, Codable, Sendable, CaseIterable {
    /// Linear(h, projectionDim) (MoCo v1).
    case linear
    /// Linear(h, h) ReLU Linear(h, projectionDim) (MoCo v2).
    case mlp
}

/// Everything needed to build a model. Defaults: convnet-s, mlp head, 1×28×28 input (Fashion-MNIST),
/// projection 128.
public struct ModelSpec: Codable, Sendable, Equatable {
    public var encoder: EncoderKind
    public var head: HeadKind
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    /// Dimensions of the projection z (before L2 normalisation). Default 128.
    public var projectionDim: Int
    /// Test-only override of the four encoder widths (tiny models for gradient checks). Encoded as
    /// "encoderWidths" only when set, so ordinary specs never carry it.
    var widthsOverride: [Int]?

    public init(encoder: EncoderKind = .convnetS, head: HeadKind = .mlp, inputChannels: Int = 1,
                inputHeight: Int = 28, inputWidth: Int = 28, projectionDim: Int = 128) {
        self.encoder = encoder; self.head = head
        self.inputChannels = inputChannels; self.inputHeight = inputHeight; self.inputWidth = inputWidth
        self.projectionDim = projectionDim
    }

    private enum CodingKeys: String, CodingKey {
        case encoder, head, inputChannels, inputHeight, inputWidth, projectionDim
        case widthsOverride = "encoderWidths"
    }

    /// Output channels of the four encoder stages.
    public var encoderWidths: [Int] { widthsOverride ?? encoder.widths }

    /// Dimensions of the feature vector h (the last stage's width).
    public var featureDim: Int { encoderWidths[encoderWidths.count - 1] }

    /// Spatial size after each stage (3×3 kernel, padding 1, strides 1, 2, 2, 2).
    public var stageSizes: [(height: Int, width: Int)] {
        var h = inputHeight, w = inputWidth
        var sizes: [(height: Int, width: Int)] = []
        for stage in 0..<encoderWidths.count {
            let s = stage == 0 ? 1 : 2
            h = (h + 2 - 3) / s + 1; w = (w + 2 - 3) / s + 1
            sizes.append((h, w))
        }
        return sizes
    }

    /// Throws `NNError.invalidSpec` when a size is not positive.
    public func validate() throws {
        if inputChannels < 1 || inputHeight < 1 || inputWidth < 1 {
            throw NNError.invalidSpec("input must be at least 1×1×1, got \(inputChannels)×\(inputHeight)×\(inputWidth)")
        }
        if let w = widthsOverride, w.count != 4 || w.contains(where: { $0 < 1 }) {
            throw NNError.invalidSpec("encoderWidths must be four positive numbers, got \(w)")
        }
        if projectionDim < 1 { throw NNError.invalidSpec("projectionDim must be positive, got \(projectionDim)") }
    }
}
