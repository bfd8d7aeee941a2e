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

    /// RGB only: shifts every pixel's hue by `shift` turns through HSV (torchvision's adjust_hue formulas).
    private func rotateHue(_ shift: Float) {
        let plane = height * width
        let r = work, g = work + plane, b = work + 2 * plane
        for i in 0..<plane {
            let red = r[i], green = g[i], blue = b[i]
            let maxc = max(red, max(green, blue)), minc = min(red, min(green, blue))
            let chroma = maxc - minc
            if chroma == 0 { continue }  // grey pixels have no hue
            let saturation = chroma / maxc
            let rc = (maxc - red) / chroma, gc = (maxc - green) / chroma, bc = (maxc - blue) / chroma
            var h: Float
            if maxc == red { h = bc - gc } else if maxc == green { h = 2 + rc - bc } else { h = 4 + gc - rc }
            h = h / 6 + 1 + shift
            h -= h.rounded(.down)
            let h6 = h * 6, sector = Int(h6.rounded(.down)) % 6, f = h6 - h6.rounded(.down)
            let v = maxc
            let pv = min(1, max(0, v * (1 - saturation)))
            let qv = min(1, max(0, v * (1 - saturation * f)))
            let tv = min(1, max(0, v * (1 - saturation * (1 - f))))
            switch sector {
            case 0: (r[i], g[i], b[i]) = (v, tv, pv)
            case 1: (r[i], g[i], b[i]) = (qv, v, pv)
            case 2: (r[i], g[i], b[i]) = (pv, v, tv)
            case 3: (r[i], g[i], b[i]) = (pv, qv, v)
            case 4: (r[i], g[i], b[i]) = (tv, pv, v)
            default: (r[i], g[i], b[i]) = (v, pv, qv)
            }
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
