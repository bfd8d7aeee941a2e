// Augmentations: invariants (shape, range, flip twice = identity, full crop = identity), each kernel against a
// plain twin, and the random draws (same seed same views, bounds, recipe probabilities).
import Foundation
import SeededRandom
import Testing
@testable import Data

private let zero1: [Double] = [0], one1: [Double] = [1], zero3: [Double] = [0, 0, 0], one3: [Double] = [1, 1, 1]

private func randomImage(channels: Int, height: Int, width: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<(channels * height * width)).map { _ in generator.nextFloat() }
}

private func view(_ image: [Float], _ c: Int, _ h: Int, _ w: Int, _ p: AugmentationParameters) -> [Float] {
    augmentedView(of: image, channels: c, height: h, width: w, parameters: p,
                  mean: c == 3 ? zero3 : zero1, std: c == 3 ? one3 : one1)
}

/// Plain twin of the crop-resize: bilinear with half-pixel centres, in Double, straight from the definition.
private func plainCropResize(_ image: [Float], _ c: Int, _ h: Int, _ w: Int, _ p: AugmentationParameters) -> [Float] {
    var out = [Float](repeating: 0, count: c * h * w)
    func source(_ ch: Int, _ y: Int, _ x: Int) -> Double {
        Double(image[(ch * h + p.cropTop + y) * w + p.cropLeft + x])
    }
    for ch in 0..<c {
        for y in 0..<h {
            for x in 0..<w {
                let dx = p.flip ? w - 1 - x : x
                let sx = max(0, (Double(dx) + 0.5) * Double(p.cropWidth) / Double(w) - 0.5)
                let sy = max(0, (Double(y) + 0.5) * Double(p.cropHeight) / Double(h) - 0.5)
                let x0 = min(Int(sx), p.cropWidth - 1), y0 = min(Int(sy), p.cropHeight - 1)
                let x1 = min(x0 + 1, p.cropWidth - 1), y1 = min(y0 + 1, p.cropHeight - 1)
                let fx = sx - Double(x0), fy = sy - Double(y0)
                let top = source(ch, y0, x0) * (1 - fx) + source(ch, y0, x1) * fx
                let bottom = source(ch, y1, x0) * (1 - fx) + source(ch, y1, x1) * fx
                out[(ch * h + y) * w + x] = Float(top * (1 - fy) + bottom * fy)
            }
        }
    }
    return out
}

/// Plain twin of the blur: a direct 2-D Gaussian sum with mirror indexing.
private func plainBlur(_ image: [Float], _ c: Int, _ h: Int, _ w: Int, sigma: Double) -> [Float] {
    let radius = min(max(1, Int((3 * sigma).rounded(.up))), min(h, w) - 1)
    let weights = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let total = weights.reduce(0, +)
    func mirror(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i) }
    var out = [Float](repeating: 0, count: image.count)
    for ch in 0..<c {
        for y in 0..<h {
            for x in 0..<w {
                var sum = 0.0
                for ky in -radius...radius {
                    for kx in -radius...radius {
                        sum += weights[ky + radius] * weights[kx + radius]
                            * Double(image[(ch * h + mirror(y + ky, h)) * w + mirror(x + kx, w)])
                    }
                }
                out[(ch * h + y) * w + x] = Float(sum / (total * total))
            }
        }
    }
    return out
}

@Test func identityParametersLeaveTheImageUnchanged() {
    for c in [1, 3] {
        let image = randomImage(channels: c, height: 9, width: 7, seed: UInt64(c))
        #expect(view(image, c, 9, 7, .identity(height: 9, width: 7)) == image)
    }
}

@Test func flippingTwiceIsTheIdentity() {
    let image = randomImage(channels: 3, height: 6, width: 8, seed: 4)
    var flip = AugmentationParameters.identity(height: 6, width: 8)
    flip.flip = true
    let once = view(image, 3, 6, 8, flip)
    #expect(once != image)
    #expect(once[0] == image[7] && once[8] == image[15])  // row 0 and row 1 mirrored
    #expect(view(once, 3, 6, 8, flip) == image)
}

@Test func aFullSquareCropIsTheIdentityUpToResampling() {
    var config = AugmentationConfig.identity
    config.cropScale = 1...1
    config.cropAspect = 1...1
    var generator = SeededGenerator(seed: 9)
    let parameters = config.draw(channels: 1, height: 12, width: 12, generator: &generator)
    #expect(parameters.cropHeight == 12 && parameters.cropWidth == 12)
    let image = randomImage(channels: 1, height: 12, width: 12, seed: 5)
    #expect(maxDifference(view(image, 1, 12, 12, parameters), image) <= 1e-6)
}

@Test func cropResizeMatchesThePlainTwin() {
    var generator = SeededGenerator(seed: 21)
    let config = AugmentationConfig(recipe: .v2)
    for trial in 0..<40 {
        let (c, h, w) = trial % 2 == 0 ? (1, 10, 13) : (3, 8, 8)
        let image = randomImage(channels: c, height: h, width: w, seed: UInt64(trial))
        var p = config.draw(channels: c, height: h, width: w, generator: &generator)
        p.jitter = false
        p.greyscale = false
        p.blurSigma = 0
        // Float kernel against the Double twin: bilinear weights in Float lose at most a few ulps.
        #expect(maxDifference(view(image, c, h, w, p), plainCropResize(image, c, h, w, p)) <= 2e-6)
    }
}

@Test func blurMatchesThePlainTwin() {
    for (sigma, c, h, w) in [(0.1, 1, 9, 9), (0.8, 3, 7, 10), (2.0, 1, 12, 11), (2.0, 1, 4, 4)] {
        let image = randomImage(channels: c, height: h, width: w, seed: 8)
        var p = AugmentationParameters.identity(height: h, width: w)
        p.blurSigma = Float(sigma)
        let blurred = view(image, c, h, w, p)
        #expect(maxDifference(blurred, plainBlur(image, c, h, w, sigma: sigma)) <= 1e-5)
        let mean = { (x: [Float]) in x.map(Double.init).reduce(0, +) / Double(x.count) }
        #expect(abs(mean(blurred) - mean(image)) < 0.05)  // mirror padding roughly keeps the mean
    }
}

@Test func jitterOperationsFollowTheirDefinitions() {
    let image: [Float] = [0.2, 0.4, 0.6, 0.8]  // one channel, 2×2
    var p = AugmentationParameters.identity(height: 2, width: 2)
    p.jitter = true
    p.brightnessFactor = 1.5
    #expect(maxDifference(view(image, 1, 2, 2, p), [0.3, 0.6, 0.9, 1.0]) < 1e-6)  // clamped at 1
    p.brightnessFactor = 1
    p.contrastFactor = 0
    #expect(maxDifference(view(image, 1, 2, 2, p), [0.5, 0.5, 0.5, 0.5]) < 1e-6)  // all at the mean
    p.contrastFactor = 2
    #expect(maxDifference(view(image, 1, 2, 2, p), [0, 0.3, 0.7, 1]) < 1e-6)

    // RGB, one pixel per test, 1×1 images.
    var colour = AugmentationParameters.identity(height: 1, width: 1)
    colour.jitter = true
    colour.hueShift = 1.0 / 3  // a third of a turn: red → green
    #expect(maxDifference(view([1, 0, 0], 3, 1, 1, colour), [0, 1, 0]) < 1e-6)
    colour.hueShift = -1.0 / 3  // red → blue
    #expect(maxDifference(view([1, 0, 0], 3, 1, 1, colour), [0, 0, 1]) < 1e-6)
    colour.hueShift = 0.5  // a half turn of a muted orange gives its complement, same value and saturation
    #expect(maxDifference(view([0.8, 0.4, 0.2], 3, 1, 1, colour), [0.2, 0.6, 0.8]) < 1e-6)
    colour.hueShift = 0
    colour.saturationFactor = 0
    let grey: Float = 0.2989 * 0.8 + 0.587 * 0.4 + 0.114 * 0.2
    #expect(maxDifference(view([0.8, 0.4, 0.2], 3, 1, 1, colour), [grey, grey, grey]) < 1e-6)

    var greyscale = AugmentationParameters.identity(height: 1, width: 1)
    greyscale.greyscale = true
    #expect(maxDifference(view([0.8, 0.4, 0.2], 3, 1, 1, greyscale), [grey, grey, grey]) < 1e-6)
    // Greyscale and the colour-only jitter leave one-channel images alone.
    #expect(view(image, 1, 2, 2, greyscale.with(height: 2, width: 2)) == image)
}

private extension AugmentationParameters {
    func with(height: Int, width: Int) -> AugmentationParameters {
        var copy = self
        (copy.cropHeight, copy.cropWidth) = (height, width)
        return copy
    }
}

@Test func viewsAreNormalisedPerChannel() {
    let image = randomImage(channels: 3, height: 4, width: 4, seed: 1)
    let mean = [0.5, 0.25, 0.1], std = [0.2, 0.5, 1.0]
    let normalised = augmentedView(of: image, channels: 3, height: 4, width: 4,
                                   parameters: .identity(height: 4, width: 4), mean: mean, std: std)
    let expected = image.indices.map { i in Float((Double(image[i]) - mean[i / 16]) / std[i / 16]) }
    #expect(maxDifference(normalised, expected) < 1e-6)
}

@Test func drawsStayInBoundsAndFollowTheRecipe() {
    var generator = SeededGenerator(seed: 77)
    var blurred = [0, 0], flipped = 0, jittered = [0, 0], greyed = 0
    let trials = 1000
    for recipe in [AugmentationRecipe.v1, .v2] {
        let config = AugmentationConfig(recipe: recipe)
        for _ in 0..<trials {
            let p = config.draw(channels: 3, height: 32, width: 24, generator: &generator)
            #expect(p.cropTop >= 0 && p.cropLeft >= 0 && p.cropHeight >= 1 && p.cropWidth >= 1)
            #expect(p.cropTop + p.cropHeight <= 32 && p.cropLeft + p.cropWidth <= 24)
            let area = Double(p.cropHeight * p.cropWidth) / Double(32 * 24)
            #expect(area <= 1 && area > 0.15)  // scale ≥ 0.2 minus rounding of small crops
            #expect(p.blurSigma == 0 || (p.blurSigma >= 0.1 && p.blurSigma <= 2))
            #expect(Set(p.jitterOrder) == Set(JitterOperation.allCases))
            if p.jitter {
                #expect(p.brightnessFactor >= 0.6 && p.brightnessFactor <= 1.4)
                #expect(abs(p.hueShift) <= Float(config.hue))
            }
            let r = recipe == .v1 ? 0 : 1
            if p.blurSigma > 0 { blurred[r] += 1 }
            if p.jitter { jittered[r] += 1 }
            if recipe == .v2 && p.flip { flipped += 1 }
            if recipe == .v2 && p.greyscale { greyed += 1 }
        }
    }
    // Binomial(1000, p): ±5 standard deviations is at most ±0.08.
    #expect(blurred[0] == 0 && abs(Double(blurred[1]) / Double(trials) - 0.5) < 0.08)
    #expect(jittered[0] == trials && abs(Double(jittered[1]) / Double(trials) - 0.8) < 0.07)
    #expect(abs(Double(flipped) / Double(trials) - 0.5) < 0.08)
    #expect(abs(Double(greyed) / Double(trials) - 0.2) < 0.07)
}

@Test func sameStreamGivesTheSameView() {
    let image = randomImage(channels: 3, height: 16, width: 16, seed: 2)
    let config = AugmentationConfig(recipe: .v2)
    func make(_ seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return view(image, 3, 16, 16, config.draw(channels: 3, height: 16, width: 16, generator: &generator))
    }
    #expect(make(5) == make(5))
    #expect(make(5) != make(6))
    for seed in 0..<20 { #expect(make(UInt64(seed)).allSatisfy { $0 >= 0 && $0 <= 1 }) }
}

@Test func configDecodesPartialJSONOverTheRecipeDefaults() throws {
    let json = #"{"recipe":"v1","blurProbability":0.25,"cropScale":[0.5,1]}"#
    let config = try JSONDecoder().decode(AugmentationConfig.self, from: Foundation.Data(json.utf8))
    var expected = AugmentationConfig(recipe: .v1)
    expected.blurProbability = 0.25
    expected.cropScale = 0.5...1
    #expect(config == expected)
    #expect(try JSONDecoder().decode(AugmentationConfig.self, from: Foundation.Data("{}".utf8)) == AugmentationConfig())
    let encoded = try JSONEncoder().encode(expected)
    #expect(try JSONDecoder().decode(AugmentationConfig.self, from: encoded) == expected)
}

@Test func outOfRangeSettingsAreRejected() throws {
    try AugmentationConfig(recipe: .v1).validate()
    try AugmentationConfig.identity.validate()
    var bad = AugmentationConfig()
    bad.flipProbability = 1.5
    #expect(throwsError(.invalidAugmentation(problem: "flipProbability must be in [0, 1], got 1.5")) { try bad.validate() })
    bad = AugmentationConfig()
    bad.cropScale = 0...1
    #expect(throws: DataError.self) { try bad.validate() }
    bad = AugmentationConfig()
    bad.hue = 0.7
    #expect(throws: DataError.self) { try bad.validate() }
    bad = AugmentationConfig()
    bad.brightness = -0.1
    #expect(throws: DataError.self) { try bad.validate() }
    bad = AugmentationConfig()
    bad.blurSigma = 0...2
    #expect(throws: DataError.self) { try bad.validate() }
}

/// Plain twin of the hue shift: torchvision's rgb→hsv, (h + shift) mod 1, six-sector hsv→rgb, in Double.
private func plainHueShift(_ r: Double, _ g: Double, _ b: Double, _ shift: Double) -> (Double, Double, Double) {
    let maxc = max(r, g, b), minc = min(r, g, b), chroma = maxc - minc
    if chroma == 0 { return (r, g, b) }
    let s = chroma / maxc
    let rc = (maxc - r) / chroma, gc = (maxc - g) / chroma, bc = (maxc - b) / chroma
    var h = maxc == r ? bc - gc : (maxc == g ? 2 + rc - bc : 4 + gc - rc)
    h = h / 6 + 1 + shift
    h -= h.rounded(.down)
    let i = Int((h * 6).rounded(.down)) % 6, f = h * 6 - (h * 6).rounded(.down)
    let p = maxc * (1 - s), q = maxc * (1 - s * f), t = maxc * (1 - s * (1 - f))
    switch i {
    case 0: return (maxc, t, p)
    case 1: return (q, maxc, p)
    case 2: return (p, maxc, t)
    case 3: return (p, q, maxc)
    case 4: return (t, p, maxc)
    default: return (maxc, p, q)
    }
}

@Test func hueShiftMatchesTheSixSectorTwin() {
    // 5×7 = 35 pixels: four full vectors of eight and a tail of three; some grey pixels and exact ties.
    var image = randomImage(channels: 3, height: 5, width: 7, seed: 13)
    (image[0], image[35], image[70]) = (0.5, 0.5, 0.5)
    (image[1], image[36], image[71]) = (0.7, 0.7, 0.1)
    (image[34], image[69], image[104]) = (0.2, 0.9, 0.9)
    for shift in [-0.5, -0.1, 0.05, 0.3, 0.5] as [Float] {
        var p = AugmentationParameters.identity(height: 5, width: 7)
        p.jitter = true
        p.hueShift = shift
        let shifted = view(image, 3, 5, 7, p)
        var worst: Float = 0
        for i in 0..<35 {
            let e = plainHueShift(Double(image[i]), Double(image[35 + i]), Double(image[70 + i]), Double(shift))
            worst = max(worst, abs(shifted[i] - Float(e.0)), abs(shifted[35 + i] - Float(e.1)),
                        abs(shifted[70 + i] - Float(e.2)))
        }
        #expect(worst <= 2e-6, "shift \(shift): \(worst)")
    }
}
