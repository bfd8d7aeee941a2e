// The synthetic dataset (`synthetic[:N][?size=S&channels=C]`): procedurally drawn images in ten visually distinct
// classes, deterministic per seed, for tests and the smoke preset (a learner separates them within seconds).
//
// Shapes (disc, ring, square, triangle, cross) are drawn from signed distances with a one-pixel soft edge at a
// random position, scale and (small) rotation; textures (horizontal, vertical and diagonal stripes, checkerboard,
// Gaussian blobs) have random period, phase and placement. Every image gets a random background and foreground
// level (a random tint per channel in RGB) and Gaussian pixel noise. Image i of a split is class i mod 10 and
// draws only from its own stream of (seed, split, i), so any image can be regenerated alone.
// Deliberately not here: realism, rotation-invariant classes (flips never turn one class into another).
import Foundation
import Parallel
import SeededRandom

/// The synthetic dataset's class names, by label.
public let syntheticClassNames = [
    "disc", "ring", "square", "triangle", "cross",
    "horizontal stripes", "vertical stripes", "diagonal stripes", "checkerboard", "blobs",
]

/// The number of test images for `trainCount` synthetic training images: a fifth, at least one per class.
public func syntheticTestCount(trainCount: Int) -> Int { max(syntheticClassNames.count, trainCount / 5) }

/// One split of the synthetic dataset: `count` training images (or `syntheticTestCount(count)` test images) of
/// channels × size × size.
func makeSyntheticSplit(count: Int, size: Int, channels: Int, split: Split, seed: UInt64) -> Dataset {
    let images = split == .train ? count : syntheticTestCount(trainCount: count)
    let imageSize = channels * size * size
    let base = SeededGenerator(seed: seed).stream(StreamID.synthetic).stream(split == .train ? 0 : 1)
    var pixels = [Float](repeating: 0, count: images * imageSize)
    pixels.withUnsafeMutableBufferPointer { buffer in
        guard let pointer = buffer.baseAddress else { return }
        let output = SendablePointer(pointer)
        let chunks = min(images, 16)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in (chunk * images / chunks) ..< ((chunk + 1) * images / chunks) {
                var generator = base.stream(UInt64(index))
                drawSyntheticImage(class: index % syntheticClassNames.count, size: size, channels: channels,
                                   generator: &generator, into: output.base + index * imageSize)
            }
        }
    }
    let labels = (0..<images).map { Int32($0 % syntheticClassNames.count) }
    let statistics = channelStatistics(pixels, channels: channels, plane: size * size)
    return Dataset(images: pixels, labels: labels, classNames: syntheticClassNames, split: split,
                   channels: channels, height: size, width: size, coarseLabels: nil, coarseClassNames: nil,
                   mean: statistics.mean, std: statistics.std)
}

/// Draws one image of class `cls` (C×S×S, values in [0, 1]) into `output`.
func drawSyntheticImage(
    class cls: Int, size: Int, channels: Int, generator: inout SeededGenerator, into output: UnsafeMutablePointer<Float>
) {
    let s = Double(size)
    let background = generator.uniform(0, 0.25), foreground = generator.uniform(0.65, 1)
    var backgroundTint: [Double] = [], foregroundTint: [Double] = []
    for _ in 0..<channels {
        backgroundTint.append(channels == 1 ? 1 : generator.uniform(0.4, 1))
        foregroundTint.append(channels == 1 ? 1 : generator.uniform(0.4, 1))
    }
    let centreX = s * generator.uniform(0.3, 0.7), centreY = s * generator.uniform(0.3, 0.7)
    let radius = s * generator.uniform(0.18, 0.32)
    let angle = generator.uniform(-0.3, 0.3)
    let period = s * generator.uniform(0.15, 0.3), phase = generator.uniform(0, 2 * Double.pi)
    let diagonalSign: Double = generator.bernoulli(0.5) ? 1 : -1
    var blobs: [(x: Double, y: Double, sigma: Double)] = []
    for _ in 0..<3 {
        blobs.append((s * generator.uniform(0.15, 0.85), s * generator.uniform(0.15, 0.85), s * generator.uniform(0.06, 0.12)))
    }
    let noise = 0.06
    let (cosine, sine) = (cos(angle), sin(angle))

    for y in 0..<size {
        for x in 0..<size {
            let px = Double(x) + 0.5, py = Double(y) + 0.5
            // Shape-local coordinates: centred, rotated, y pointing up.
            let dx = px - centreX, dy = centreY - py
            let u = cosine * dx + sine * dy, v = -sine * dx + cosine * dy
            let coverage: Double
            switch cls {
            case 0: coverage = edge((dx * dx + dy * dy).squareRoot() - radius)
            case 1: coverage = edge(abs((dx * dx + dy * dy).squareRoot() - radius) - max(1, radius * 0.18))
            case 2: coverage = edge(max(abs(u), abs(v)) - radius * 0.85)
            case 3: coverage = edge(triangleDistance(u, v + radius * 0.2, radius * 1.1))
            case 4:
                let arm = radius * 0.28
                coverage = edge(min(max(abs(u) - radius, abs(v) - arm), max(abs(u) - arm, abs(v) - radius)))
            case 5: coverage = stripe(py, period, phase)
            case 6: coverage = stripe(px, period, phase)
            case 7: coverage = stripe((px + diagonalSign * py) / 2.squareRoot(), period, phase)
            case 8:
                let a = sin(2 * Double.pi * px / period + phase), b = sin(2 * Double.pi * py / period + phase)
                coverage = min(1, max(0, 0.5 + 2 * a * b))
            default:
                var sum = 0.0
                for blob in blobs {
                    let ex = px - blob.x, ey = py - blob.y
                    sum += exp(-(ex * ex + ey * ey) / (2 * blob.sigma * blob.sigma))
                }
                coverage = min(1, sum)
            }
            for c in 0..<channels {
                let low = background * backgroundTint[c], high = foreground * foregroundTint[c]
                let value = low + (high - low) * coverage + noise * generator.normal()
                output[(c * size + y) * size + x] = Float(min(1, max(0, value)))
            }
        }
    }
}

/// Coverage of a pixel at signed distance `d` from a shape's edge (negative inside), with a one-pixel soft edge.
@inline(__always) private func edge(_ d: Double) -> Double { min(1, max(0, 0.5 - d)) }

/// Coverage of a stripe pattern along `t`: a steep sine, so stripes have sharp but antialiased edges.
@inline(__always) private func stripe(_ t: Double, _ period: Double, _ phase: Double) -> Double {
    min(1, max(0, 0.5 + 2 * sin(2 * Double.pi * t / period + phase)))
}

/// Signed distance to an upward equilateral triangle of half-side `r` centred at the origin (Quílez's formula).
private func triangleDistance(_ x: Double, _ y: Double, _ r: Double) -> Double {
    let k = 3.0.squareRoot()
    var px = abs(x) - r, py = y + r / k
    if px + k * py > 0 { (px, py) = ((px - k * py) / 2, (-k * px - py) / 2) }
    px -= min(0, max(-2 * r, px))
    return -(px * px + py * py).squareRoot() * (py < 0 ? -1 : 1)
}
