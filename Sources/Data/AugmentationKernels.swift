// The augmentation kernels: one view from one image, in scratch buffers allocated once per worker.
//
// Shape legend: C = channels, H = height, W = width (input and output sizes are equal), cH × cW = crop size,
// r = blur radius. Images are planar C×H×W Float32. Steps: bilinear crop-resize with the flip folded into the
// column table (half-pixel centres, like PyTorch's align_corners=False, so a full-image crop is exactly the
// identity) → jitter in place → greyscale → separable Gaussian blur with mirror padding → normalisation.
// The unsafe pointer code lives here, behind `augmentedView` (Augmentation.swift) and the loaders.
// Deliberately not here: drawing the random parameters (Augmentation.swift), threading (TwoViewLoader.swift).
import Foundation

/// Scratch buffers for augmenting C×H×W views; one per worker thread, reused for every view it makes.
final class AugmentationWorkspace {
    let channels: Int, height: Int, width: Int
    private let work: UnsafeMutablePointer<Float>      // C×H×W: the view being built
    private let spare: UnsafeMutablePointer<Float>     // C×H×W: blur's horizontal pass
    private let row: UnsafeMutablePointer<Float>       // 3·max(H, W): an interpolated or mirror-padded row
    private let columnFirst: UnsafeMutablePointer<Int> // W: left source column of each output column
    private let columnSecond: UnsafeMutablePointer<Int>
    private let columnWeight: UnsafeMutablePointer<Float>
    private let kernel: UnsafeMutablePointer<Float>    // 2·max(H, W) + 1 blur taps

    init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        let size = channels * height * width, side = max(height, width)
        work = .allocate(capacity: size)
        spare = .allocate(capacity: size)
        row = .allocate(capacity: 3 * side)
        columnFirst = .allocate(capacity: width)
        columnSecond = .allocate(capacity: width)
        columnWeight = .allocate(capacity: width)
        kernel = .allocate(capacity: 2 * side + 1)
    }

    deinit {
        work.deallocate()
        spare.deallocate()
        row.deallocate()
        columnFirst.deallocate()
        columnSecond.deallocate()
        columnWeight.deallocate()
        kernel.deallocate()
    }

    /// Writes the view of `source` described by `parameters` to `output`, as (x − mean[c]) · inverseStd[c].
    func augment(
        _ source: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, parameters p: AugmentationParameters,
        mean: [Float], inverseStd: [Float]
    ) {
        cropResize(source, parameters: p)
        if p.jitter {
            for operation in p.jitterOrder {
                switch operation {
                case .brightness: if p.brightnessFactor != 1 { scaleBrightness(p.brightnessFactor) }
                case .contrast: if p.contrastFactor != 1 { blendWithMeanGrey(p.contrastFactor) }
                case .saturation: if channels == 3 && p.saturationFactor != 1 { blendWithGrey(p.saturationFactor) }
                case .hue: if channels == 3 && p.hueShift != 0 { rotateHue(p.hueShift) }
                }
            }
        }
        if channels == 3 && p.greyscale { blendWithGrey(0) }
        if p.blurSigma > 0 { blur(sigma: p.blurSigma) }
        let plane = height * width
        for c in 0..<channels {
            let m = mean[c], s = inverseStd[c]
            let from = work + c * plane, to = output + c * plane
            for i in 0..<plane { to[i] = (from[i] - m) * s }
        }
    }

    /// Bilinear resize of the crop rectangle to H×W into `work`, mirrored when `flip`.
    private func cropResize(_ source: UnsafePointer<Float>, parameters p: AugmentationParameters) {
        let H = height, W = width, cH = p.cropHeight, cW = p.cropWidth
        let scaleX = Float(cW) / Float(W), scaleY = Float(cH) / Float(H)
        for x in 0..<W {
            let d = p.flip ? W - 1 - x : x
            let s = max(0, (Float(d) + 0.5) * scaleX - 0.5)
            let x0 = min(Int(s), cW - 1)
            columnFirst[x] = x0
            columnSecond[x] = min(x0 + 1, cW - 1)
            columnWeight[x] = s - Float(x0)
        }
        for y in 0..<H {
            let s = max(0, (Float(y) + 0.5) * scaleY - 0.5)
            let y0 = min(Int(s), cH - 1), y1 = min(y0 + 1, cH - 1), wy = s - Float(y0)
            for c in 0..<channels {
                let r0 = source + (c * H + p.cropTop + y0) * W + p.cropLeft
                let r1 = source + (c * H + p.cropTop + y1) * W + p.cropLeft
                for j in 0..<cW { row[j] = r0[j] + wy * (r1[j] - r0[j]) }
                let out = work + (c * H + y) * W
                for x in 0..<W {
                    let a = row[columnFirst[x]], b = row[columnSecond[x]]
                    out[x] = a + columnWeight[x] * (b - a)
                }
            }
        }
    }

    /// x ← min(1, x · factor) (pixels are ≥ 0 already).
    private func scaleBrightness(_ factor: Float) {
        let n = channels * height * width
        for i in 0..<n { work[i] = min(1, work[i] * factor) }
    }

    /// x ← clamp(factor · x + (1 − factor) · mean grey) (torchvision's adjust_contrast).
    private func blendWithMeanGrey(_ factor: Float) {
        let plane = height * width
        var total = 0.0
        if channels == 3 {
            for i in 0..<plane { total += Double(greyLevel(i, plane)) }
        } else {
            for i in 0..<plane { total += Double(work[i]) }
        }
        let offset = (1 - factor) * Float(total / Double(plane))
        let n = channels * plane
        for i in 0..<n { work[i] = min(1, max(0, factor * work[i] + offset)) }
    }

    /// RGB only: x ← clamp(factor · x + (1 − factor) · grey(pixel)); factor 0 turns the view grey.
    private func blendWithGrey(_ factor: Float) {
        let plane = height * width
        let r = work, g = work + plane, b = work + 2 * plane
        for i in 0..<plane {
            let grey = (1 - factor) * (0.2989 * r[i] + 0.587 * g[i] + 0.114 * b[i])
            r[i] = min(1, max(0, factor * r[i] + grey))
            g[i] = min(1, max(0, factor * g[i] + grey))
            b[i] = min(1, max(0, factor * b[i] + grey))
        }
    }

    @inline(__always) private func greyLevel(_ i: Int, _ plane: Int) -> Float {
        0.2989 * work[i] + 0.587 * work[plane + i] + 0.114 * work[2 * plane + i]
    }

    /// RGB only: shifts every pixel's hue by `shift` turns through HSV (torchvision's adjust_hue), eight pixels at
    /// a time. HSV → RGB uses the branch-free form f(n) = V − C · clamp(min(k, 4 − k), 0, 1), k = (n + 6H) mod 6,
    /// n = 5, 3, 1 for R, G, B (C = chroma), which equals the six-sector table; grey pixels (C = 0) stay as they are.
    private func rotateHue(_ shift: Float) {
        let plane = height * width
        let r = work, g = work + plane, b = work + 2 * plane
        var i = 0
        while i + 8 <= plane {
            let (red, green, blue) = hueShifted(load8(r + i), load8(g + i), load8(b + i), shift)
            store8(red, r + i)
            store8(green, g + i)
            store8(blue, b + i)
            i += 8
        }
        if i < plane {  // the last 1...7 pixels, through a zero-padded vector
            var red = SIMD8<Float>(), green = SIMD8<Float>(), blue = SIMD8<Float>()
            for lane in 0..<(plane - i) { (red[lane], green[lane], blue[lane]) = (r[i + lane], g[i + lane], b[i + lane]) }
            (red, green, blue) = hueShifted(red, green, blue, shift)
            for lane in 0..<(plane - i) { (r[i + lane], g[i + lane], b[i + lane]) = (red[lane], green[lane], blue[lane]) }
        }
    }

    /// Separable Gaussian blur of `work` (radius ⌈3σ⌉, at most min(H, W) − 1, mirror padding without repeating
    /// the edge pixel, like torchvision's reflect mode).
    private func blur(sigma: Float) {
        let H = height, W = width
        let radius = min(max(1, Int((3 * sigma).rounded(.up))), min(H, W) - 1)
        if radius < 1 { return }
        let taps = 2 * radius + 1
        var total: Float = 0
        for k in 0..<taps {
            let d = Float(k - radius)
            kernel[k] = exp(-d * d / (2 * sigma * sigma))
            total += kernel[k]
        }
        for k in 0..<taps { kernel[k] /= total }

        // Horizontal: work → spare, one mirror-padded row at a time.
        for rowIndex in 0..<(channels * H) {
            let from = work + rowIndex * W, to = spare + rowIndex * W
            for x in 0..<W { row[radius + x] = from[x] }
            for k in 1...radius {
                row[radius - k] = from[k]
                row[radius + W - 1 + k] = from[W - 1 - k]
            }
            for x in 0..<W { to[x] = kernel[0] * row[x] }
            for k in 1..<taps {
                let weight = kernel[k], shifted = row + k
                for x in 0..<W { to[x] += weight * shifted[x] }
            }
        }
        // Vertical: spare → work, whole rows at a time.
        for c in 0..<channels {
            let plane = spare + c * H * W
            for y in 0..<H {
                let to = work + (c * H + y) * W
                for x in 0..<W { to[x] = 0 }
                for k in 0..<taps {
                    var source = y - radius + k
                    if source < 0 { source = -source } else if source >= H { source = 2 * H - 2 - source }
                    let weight = kernel[k], from = plane + source * W
                    for x in 0..<W { to[x] += weight * from[x] }
                }
            }
        }
    }
}

@inline(__always) private func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Eight RGB pixels with their hue turned by `shift` (see `rotateHue`).
@inline(__always)
private func hueShifted(_ red: SIMD8<Float>, _ green: SIMD8<Float>, _ blue: SIMD8<Float>, _ shift: Float)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    let maxc = maximum(red, maximum(green, blue)), minc = minimum(red, minimum(green, blue))
    let chroma = maxc - minc
    let divisor = chroma.replacing(with: 1, where: chroma .== 0)
    let rc = (maxc - red) / divisor, gc = (maxc - green) / divisor, bc = (maxc - blue) / divisor
    // Hue in sixths: from red, green or blue being the largest (in that order of precedence, as torchvision).
    var hue = (4 + gc - rc)
    hue.replace(with: 2 + rc - bc, where: maxc .== green)
    hue.replace(with: bc - gc, where: maxc .== red)
    var turns = hue / 6 + 1 + SIMD8<Float>(repeating: shift)
    turns -= turns.rounded(.down)
    let sixths = turns * 6
    func channel(_ n: Float) -> SIMD8<Float> {
        var k = sixths + SIMD8<Float>(repeating: n)
        k.replace(with: k - 6, where: k .>= 6)
        let f = minimum(maximum(minimum(k, 4 - k), SIMD8<Float>(repeating: 0)), SIMD8<Float>(repeating: 1))
        return maxc - chroma * f
    }
    return (channel(5), channel(3), channel(1))
}

// The standard library's pointwiseMin/Max are generic lane loops that stay out of line here (measured: half the
// time of a 3×32×32 batch); a compare-and-blend compiles to two vector instructions.
@inline(__always) private func minimum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .< a)
}

@inline(__always) private func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    a.replacing(with: b, where: b .> a)
}
