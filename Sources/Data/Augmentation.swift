// Contrastive augmentations: the recipe (what may happen, how strongly), and one view's random draw.
//
// Pipeline per view, as in MoCo's ImageNet recipes (He et al. 2020, Chen et al. 2020 "Improved baselines"):
// random resized crop (scale 0.2–1, aspect 3/4–4/3, bilinear, back to the input size) → colour jitter
// (brightness, contrast, and for RGB saturation and hue, in a random order, like torchvision's ColorJitter) →
// random greyscale (RGB only) → Gaussian blur → horizontal flip → normalisation. Recipes:
//   v1: jitter always (0.4, 0.4, 0.4, hue 0.4), greyscale p 0.2, no blur;
//   v2: jitter p 0.8 (0.4, 0.4, 0.4, hue 0.1), greyscale p 0.2, blur σ ∈ [0.1, 2] p 0.5.
// (MoCo v1 applies greyscale before jitter; here both recipes share one order, which only matters for the rare
// view that is both jittered and greyed.) The flip is folded into the crop's sampling (it commutes with the
// pixel-wise jitter and the symmetric blur), so it costs nothing.
// Drawing (this file) is separate from applying (AugmentationKernels.swift), so tests can apply chosen parameters.
// Deliberately not here: rotations, solarisation, cut-outs (not in MoCo's recipes).
import Foundation
import SeededRandom

/// The two augmentation recipes, named as in MoCo.
public enum AugmentationRecipe: String, Codable, Sendable, CaseIterable {
    /// MoCo v1: crop, greyscale p 0.2, colour jitter always (hue 0.4), flip. No blur.
    case v1
    /// MoCo v2: crop, colour jitter p 0.8 (hue 0.1), greyscale p 0.2, Gaussian blur p 0.5, flip.
    case v2
}

/// What the augmentation of one view may do and how strongly. Every field has the recipe's default; configs may
/// override any subset (missing JSON keys take the recipe's value).
public struct AugmentationConfig: Codable, Sendable, Equatable {
    /// The recipe whose defaults fill unspecified fields. Default `.v2`.
    public var recipe: AugmentationRecipe
    /// Fraction of the image area a crop covers, drawn uniformly. Default 0.2...1.
    public var cropScale: ClosedRange<Double>
    /// Crop aspect ratio (width / height), drawn log-uniformly. Default 3/4...4/3.
    public var cropAspect: ClosedRange<Double>
    /// Probability of a horizontal flip. Default 0.5.
    public var flipProbability: Double
    /// Probability that colour jitter is applied. Default 1 (v1), 0.8 (v2).
    public var jitterProbability: Double
    /// Brightness strength s: factor in [max(0, 1 − s), 1 + s]. Default 0.4.
    public var brightness: Double
    /// Contrast strength s: factor in [max(0, 1 − s), 1 + s]. Default 0.4.
    public var contrast: Double
    /// Saturation strength s (RGB only): factor in [max(0, 1 − s), 1 + s]. Default 0.4.
    public var saturation: Double
    /// Hue strength h (RGB only): shift in [−h, h] turns of the colour wheel, h ≤ 0.5. Default 0.4 (v1), 0.1 (v2).
    public var hue: Double
    /// Probability of turning an RGB view grey. Default 0.2.
    public var greyscaleProbability: Double
    /// Probability of a Gaussian blur. Default 0 (v1), 0.5 (v2).
    public var blurProbability: Double
    /// Blur standard deviation in pixels, drawn uniformly. Default 0.1...2.
    public var blurSigma: ClosedRange<Double>

    /// The recipe's defaults (see the field docs). Default recipe `.v2`.
    public init(recipe: AugmentationRecipe = .v2) {
        self.recipe = recipe
        cropScale = 0.2...1
        cropAspect = 0.75...(4.0 / 3.0)
        flipProbability = 0.5
        brightness = 0.4
        contrast = 0.4
        saturation = 0.4
        greyscaleProbability = 0.2
        blurSigma = 0.1...2
        switch recipe {
        case .v1:
            jitterProbability = 1
            hue = 0.4
            blurProbability = 0
        case .v2:
            jitterProbability = 0.8
            hue = 0.1
            blurProbability = 0.5
        }
    }

    /// No augmentation at all: full-image crop, no flip, jitter, greyscale or blur (views = normalised originals).
    public static var identity: AugmentationConfig {
        var config = AugmentationConfig(recipe: .v2)
        config.cropScale = 1...1
        config.cropAspect = 1...1
        config.flipProbability = 0
        config.jitterProbability = 0
        config.greyscaleProbability = 0
        config.blurProbability = 0
        return config
    }

    /// Throws `DataError.invalidAugmentation` naming the first field out of its range.
    public func validate() throws {
        func fail(_ problem: String) -> DataError { DataError.invalidAugmentation(problem: problem) }
        let probabilities = [("flipProbability", flipProbability), ("jitterProbability", jitterProbability),
                             ("greyscaleProbability", greyscaleProbability), ("blurProbability", blurProbability)]
        for (name, p) in probabilities where !(p >= 0 && p <= 1) {
            throw fail("\(name) must be in [0, 1], got \(p)")
        }
        if !(cropScale.lowerBound > 0 && cropScale.upperBound <= 1) {
            throw fail("cropScale must lie in (0, 1], got \(cropScale)")
        }
        if !(cropAspect.lowerBound > 0 && cropAspect.upperBound.isFinite) {
            throw fail("cropAspect must be positive and finite, got \(cropAspect)")
        }
        for (name, s) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation)]
        where !(s >= 0 && s.isFinite) {
            throw fail("\(name) strength must be ≥ 0 and finite, got \(s)")
        }
        if !(hue >= 0 && hue <= 0.5) { throw fail("hue strength must be in [0, 0.5], got \(hue)") }
        if !(blurSigma.lowerBound > 0 && blurSigma.upperBound <= 20) {
            throw fail("blurSigma must lie in (0, 20] pixels, got \(blurSigma)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case recipe, cropScale, cropAspect, flipProbability, jitterProbability, brightness, contrast, saturation, hue
        case greyscaleProbability, blurProbability, blurSigma
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(recipe: try container.decodeIfPresent(AugmentationRecipe.self, forKey: .recipe) ?? .v2)
        cropScale = try container.decodeIfPresent(ClosedRange<Double>.self, forKey: .cropScale) ?? cropScale
        cropAspect = try container.decodeIfPresent(ClosedRange<Double>.self, forKey: .cropAspect) ?? cropAspect
        flipProbability = try container.decodeIfPresent(Double.self, forKey: .flipProbability) ?? flipProbability
        jitterProbability = try container.decodeIfPresent(Double.self, forKey: .jitterProbability) ?? jitterProbability
        brightness = try container.decodeIfPresent(Double.self, forKey: .brightness) ?? brightness
        contrast = try container.decodeIfPresent(Double.self, forKey: .contrast) ?? contrast
        saturation = try container.decodeIfPresent(Double.self, forKey: .saturation) ?? saturation
        hue = try container.decodeIfPresent(Double.self, forKey: .hue) ?? hue
        greyscaleProbability = try container.decodeIfPresent(Double.self, forKey: .greyscaleProbability)
            ?? greyscaleProbability
        blurProbability = try container.decodeIfPresent(Double.self, forKey: .blurProbability) ?? blurProbability
        blurSigma = try container.decodeIfPresent(ClosedRange<Double>.self, forKey: .blurSigma) ?? blurSigma
    }
}

/// The colour-jitter operations, in the order a view applies them.
public enum JitterOperation: UInt8, Sendable, CaseIterable {
    case brightness, contrast, saturation, hue
}

/// Everything random about one augmented view: the outcome of `AugmentationConfig.draw`.
public struct AugmentationParameters: Sendable, Equatable {
    /// Crop rectangle in input pixels (top row, left column, height, width), inside the image.
    public var cropTop: Int, cropLeft: Int, cropHeight: Int, cropWidth: Int
    /// Mirror left–right.
    public var flip: Bool
    /// Apply colour jitter (with the factors below, in `jitterOrder`).
    public var jitter: Bool
    /// The order of the four jitter operations.
    public var jitterOrder: [JitterOperation]
    /// Jitter factors: brightness, contrast, saturation multiply (1 = unchanged); hue adds turns (0 = unchanged).
    public var brightnessFactor: Float, contrastFactor: Float, saturationFactor: Float, hueShift: Float
    /// Turn the view grey (RGB only).
    public var greyscale: Bool
    /// Gaussian blur standard deviation in pixels; 0 = no blur.
    public var blurSigma: Float

    /// The parameters that leave a height×width image unchanged.
    public static func identity(height: Int, width: Int) -> AugmentationParameters {
        AugmentationParameters(cropTop: 0, cropLeft: 0, cropHeight: height, cropWidth: width, flip: false,
                               jitter: false, jitterOrder: JitterOperation.allCases, brightnessFactor: 1,
                               contrastFactor: 1, saturationFactor: 1, hueShift: 0, greyscale: false, blurSigma: 0)
    }
}

extension AugmentationConfig {
    /// Draws one view's parameters for a channels×height×width image from `generator`.
    public func draw(channels: Int, height: Int, width: Int, generator: inout SeededGenerator) -> AugmentationParameters {
        var p = AugmentationParameters.identity(height: height, width: width)
        (p.cropTop, p.cropLeft, p.cropHeight, p.cropWidth) = randomResizedCrop(height: height, width: width,
                                                                               generator: &generator)
        if generator.bernoulli(jitterProbability) {
            p.jitter = true
            func factor(_ strength: Double) -> Float {
                strength > 0 ? Float(generator.uniform(max(0, 1 - strength), 1 + strength)) : 1
            }
            p.brightnessFactor = factor(brightness)
            p.contrastFactor = factor(contrast)
            if channels == 3 {
                p.saturationFactor = factor(saturation)
                p.hueShift = hue > 0 ? Float(generator.uniform(-hue, hue)) : 0
            }
            generator.shuffle(&p.jitterOrder)
        }
        if channels == 3 { p.greyscale = generator.bernoulli(greyscaleProbability) }
        if generator.bernoulli(blurProbability) {
            p.blurSigma = Float(generator.uniform(blurSigma.lowerBound, blurSigma.upperBound))
        }
        p.flip = generator.bernoulli(flipProbability)
        return p
    }

    /// torchvision's RandomResizedCrop.get_params: up to ten tries at a crop of random area and aspect that fits,
    /// else the largest centred crop with the aspect clamped to the range.
    func randomResizedCrop(height: Int, width: Int, generator: inout SeededGenerator) -> (Int, Int, Int, Int) {
        let area = Double(height * width)
        let logLow = log(cropAspect.lowerBound), logHigh = log(cropAspect.upperBound)
        for _ in 0..<10 {
            let target = area * generator.uniform(cropScale.lowerBound, cropScale.upperBound)
            let aspect = exp(logLow == logHigh ? logLow : generator.uniform(logLow, logHigh))
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && w <= width && h > 0 && h <= height {
                let top = generator.int(below: height - h + 1), left = generator.int(below: width - w + 1)
                return (top, left, h, w)
            }
        }
        let ratio = Double(width) / Double(height)
        var w = width, h = height
        if ratio < cropAspect.lowerBound {
            h = max(1, min(height, Int((Double(w) / cropAspect.lowerBound).rounded())))
        } else if ratio > cropAspect.upperBound {
            w = max(1, min(width, Int((Double(h) * cropAspect.upperBound).rounded())))
        }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }
}

/// One augmented view of a C×H×W image (values in [0, 1]), normalised with `mean` and `std` per channel
/// (pass mean 0 and std 1 for a view in [0, 1]). The safe face of the batch kernel, for previews and tests.
public func augmentedView(
    of image: [Float], channels: Int, height: Int, width: Int, parameters: AugmentationParameters,
    mean: [Double], std: [Double]
) -> [Float] {
    precondition(image.count == channels * height * width, "image has \(image.count) values, not \(channels)×\(height)×\(width)")
    precondition(mean.count == channels && std.count == channels, "mean/std need \(channels) values")
    let workspace = AugmentationWorkspace(channels: channels, height: height, width: width)
    var output = [Float](repeating: 0, count: image.count)
    let scale = std.map { Float(1 / $0) }, shift = mean.map(Float.init)
    image.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { destination in
            guard let from = source.baseAddress, let to = destination.baseAddress else { return }
            workspace.augment(from, into: to, parameters: parameters, mean: shift, inverseStd: scale)
        }
    }
    return output
}
