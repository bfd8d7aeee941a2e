// Padding-aware convolution: output pixels grouped by which kernel taps fall inside the image, so that the GEMMs
// skip the taps that only ever read the zero padding.
//
// Why: a 3×3 kernel with padding 1 on a small image spends much of its im2col + sgemm work on zeros. convnet-s's
// conv4 (7×7 → 4×4, stride 2) has 100 real taps of its 144: 31 % of its multiply-adds multiply zeros. Pixels whose
// taps are the same rectangle of the kernel form a class; a class's column matrix holds only those taps
// (k_r·k_c·C columns instead of k·k·C), and its GEMMs use the matching columns of the weights. Classes: a row p
// whose kernel rows are cut by the padding keeps all kernel columns (zero-filled where its corners are cut too),
// one class per such row range; the other rows form one class per range of kernel columns. convnet-s conv4: the
// top row, the bottom row, the left and right edges and the interior (108 of 144 taps computed).
//
// The rest as in Convolution.swift: per part, images in near-equal groups (sized so that the largest class's
// column matrix stays near `targetColumnFloats`); per group, class by class: im2col of the class's pixels, sgemm
// into a scratch block, scatter to y (forward); gather of dY, dW (+)= dYᵀ·col straight into the part's O×K
// accumulator, dcol = dY·W_c and col2im into the group's dX images (backward). Every choice depends on shapes
// only: no byte depends on the thread count. Results differ from the plain path by Float rounding (the sgemm sums
// fewer terms); the tests compare both with the Double reference.
// Deliberately not here: layers whose padding costs little (`PixelClassPlan.minimumSaving`): they keep the plain
// path, whose single GEMM per group writes y directly.
//
// Legend as in Convolution.swift; for a class: n_p = its pixels per image, k_r×k_c = its kernel rectangle,
// K_c = k_r·k_c·C its columns, N_c = m·n_p its rows in a group of m images.
import Parallel

/// The output pixels of one image that share a kernel rectangle.
struct ConvolutionPixelClass: Sendable {
    /// Output pixels l = p·Q + q, ascending.
    let pixels: [Int]
    /// Kernel rows ki and columns kj of the class's taps (taps outside the image inside it are zero-filled).
    let kernelRows: Range<Int>, kernelColumns: Range<Int>
    /// K_c = k_r·k_c·C.
    let columnCount: Int
    /// Where the class's columns start in the full column order (ki, kj, c) when they are one contiguous block
    /// (all kernel columns); nil otherwise (the forward and dX passes then use a compacted copy of the weights).
    let contiguousStart: Int?
    /// For a class without contiguous columns: where its O×K_c block starts in `PixelClassPlan.compactWeights`,
    /// in columns (the block starts at float O·compactOffset); nil otherwise.
    let compactOffset: Int?
}

/// How a convolution's output pixels split into classes, or nil when the split saves too little.
struct PixelClassPlan: Sendable {
    let classes: [ConvolutionPixelClass]
    /// Fraction of the plain path's multiply-adds the classes skip.
    let savedFraction: Double
    /// Images per group: the largest class's column matrix of a group stays near `targetColumnFloats`.
    let imagesPerGroup: Int
    /// The largest n_p and n_p·K_c over the classes (scratch sizes per image).
    let largestPixels: Int, largestColumnBlock: Int

    /// Below this fraction of multiply-adds saved the plain path is used: its one GEMM per group writes y directly,
    /// with no scatter and no small per-class GEMMs. Measured with `bench conv` (interleaved, 2 threads): convnet-s
    /// conv4 saves 25 % of its multiply-adds and 13–17 % of its time; conv3 would save 8.8 % and ran 1–6 % slower.
    static let minimumSaving = 0.15

    /// The plan of `g`; nil when the classes would save less than `minimumSaving` of the multiply-adds, or a pixel
    /// reads no tap at all (padding wider than the kernel).
    init?(_ g: ConvolutionGeometry, partSize: Int) {
        let k = g.kernelSize, C = g.inputChannels, P = g.outputHeight, Q = g.outputWidth
        // The kernel taps of output index `index` that fall inside an input of `size`; nil when none does.
        func taps(_ index: Int, _ size: Int) -> Range<Int>? {
            let start = index * g.stride - g.padding
            let first = max(0, -start), end = min(k, size - start)
            return first < end ? first..<end : nil
        }
        let full = 0..<k
        var keys: [(rows: Range<Int>, columns: Range<Int>)] = []
        var members: [[Int]] = []
        for p in 0..<P {
            guard let rows = taps(p, g.inputHeight) else { return nil }
            for q in 0..<Q {
                guard let columns = taps(q, g.inputWidth) else { return nil }
                let key = rows == full ? (rows: full, columns: columns) : (rows: rows, columns: full)
                if let index = keys.firstIndex(where: { $0.rows == key.rows && $0.columns == key.columns }) {
                    members[index].append(p * Q + q)
                } else {
                    keys.append(key); members.append([p * Q + q])
                }
            }
        }
        var kept = 0, compacted = 0
        var classes: [ConvolutionPixelClass] = []
        for (key, pixels) in zip(keys, members) {
            let columnCount = key.rows.count * key.columns.count * C
            kept += pixels.count * columnCount
            let contiguous = key.columns == full
            classes.append(ConvolutionPixelClass(pixels: pixels, kernelRows: key.rows, kernelColumns: key.columns,
                                                 columnCount: columnCount,
                                                 contiguousStart: contiguous ? key.rows.lowerBound * k * C : nil,
                                                 compactOffset: contiguous ? nil : compacted))
            if !contiguous { compacted += columnCount }
        }
        savedFraction = 1 - Double(kept) / Double(g.outputPixels * g.columnCount)
        if savedFraction < Self.minimumSaving { return nil }
        self.classes = classes
        largestPixels = classes.map(\.pixels.count).max() ?? 0
        largestColumnBlock = classes.map { $0.pixels.count * $0.columnCount }.max() ?? 0
        imagesPerGroup = max(1, min(partSize, ConvolutionGeometry.targetColumnFloats / max(1, largestColumnBlock)))
    }

    /// Near-equal groups of at most `imagesPerGroup` images for a part of `partSize` images.
    func groups(partSize: Int) -> Int { (partSize + imagesPerGroup - 1) / imagesPerGroup }

    /// The O×K_c weights of the classes without contiguous columns, one after another in class order, from the
    /// O×K columns (class c's block starts at float O·`compactOffset`).
    func compactWeights(_ wk: UnsafePointer<Float>, _ g: ConvolutionGeometry) -> [Float] {
        let O = g.outputChannels, K = g.columnCount, k = g.kernelSize, C = g.inputChannels
        var out: [Float] = []
        out.reserveCapacity(O * classes.filter { $0.contiguousStart == nil }.map(\.columnCount).reduce(0, +))
        for cls in classes where cls.contiguousStart == nil {
            let run = cls.kernelColumns.count * C
            for o in 0..<O {
                for ki in cls.kernelRows {
                    let start = o * K + (ki * k + cls.kernelColumns.lowerBound) * C
                    out.append(contentsOf: UnsafeBufferPointer(start: wk + start, count: run))
                }
            }
        }
        return out
    }

    /// The weight operand of class c for `sgemm` (O×K_c, row length `ldb`): a block of the full O×K columns when
    /// the class's columns are contiguous, else its block of the compacted weights.
    @inline(__always)
    func weightOperand(_ cls: ConvolutionPixelClass, full wk: UnsafePointer<Float>, compact: UnsafePointer<Float>,
                       outputs O: Int, columns K: Int) -> (b: UnsafePointer<Float>, ldb: Int) {
        if let start = cls.contiguousStart { return (wk + start, K) }
        return (compact + O * (cls.compactOffset ?? 0), cls.columnCount)
    }
}

// MARK: - im2col / col2im of one class

/// Calls `body(image, offset, ih, iw0)` for every kernel row of every class pixel of images 0..<m, in column-matrix
/// order: the run of the class's kernel columns at input row `ih` from input column `iw0` sits at `offset` of the
/// (m·n_p)×K_c column matrix. The walk shared by the class's im2col and col2im.
@inline(__always)
func forEachClassRun(_ cls: ConvolutionPixelClass, _ g: ConvolutionGeometry, count m: Int,
                     _ body: (_ image: Int, _ offset: Int, _ ih: Int, _ iw0: Int) -> Void) {
    let Q = g.outputWidth, s = g.stride, pad = g.padding
    let kc0 = cls.kernelColumns.lowerBound, run = cls.kernelColumns.count * g.inputChannels
    var row = 0
    for j in 0..<m {
        for l in cls.pixels {
            let p = l / Q, q = l - p * Q
            for (r, ki) in cls.kernelRows.enumerated() {
                body(j, row + r * run, p * s - pad + ki, q * s - pad + kc0)
            }
            row += cls.columnCount
        }
    }
}

/// Writes the (m·n_p)×K_c column matrix of a class for the images `images[0..<m]`: row j·n_p + i is pixel
/// `pixels[i]` of image j, columns (ki, kj, c) over the class's rectangle, 0 in the padding.
@inline(__always)
func im2colClass(_ images: UnsafePointer<UnsafePointer<Float>>, count m: Int, _ cls: ConvolutionPixelClass,
                 _ g: ConvolutionGeometry, _ col: UnsafeMutablePointer<Float>) {
    let taps = cls.kernelColumns.count
    forEachClassRun(cls, g, count: m) { j, offset, ih, iw0 in
        gatherTaps(images[j], g, row: ih, column: iw0, taps: taps, into: col + offset)
    }
}

/// Adds a class's (m·n_p)×K_c column-matrix gradient onto the images' input gradients `dx[0..<m]`.
@inline(__always)
func col2imClass(_ dcol: UnsafePointer<Float>, _ cls: ConvolutionPixelClass, _ g: ConvolutionGeometry,
                 _ dx: UnsafePointer<UnsafeMutablePointer<Float>>, count m: Int) {
    let taps = cls.kernelColumns.count
    forEachClassRun(cls, g, count: m) { j, offset, ih, iw0 in
        scatterTaps(dcol + offset, g, row: ih, column: iw0, taps: taps, into: dx[j])
    }
}

// MARK: - Forward / backward

/// The forward pass by pixel classes (see the file comment); same contract as `convolutionForward(source:…)`.
func classedConvolutionForward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry,
                               weightColumns wk: [Float], plan: PixelClassPlan, threads: Int) -> [Float] {
    let parts = ComputeContext.parts(batch: B)
    let O = g.outputChannels, K = g.columnCount
    return [Float](unsafeUninitializedCapacity: B * g.outputSize) { yBuf, initialised in
        let y = SendablePointer(yBuf.baseAddress!)
        wk.withUnsafeBufferPointer { wBuf in
            let wp = SendablePointer(wBuf.baseAddress!)
            let compact = plan.compactWeights(wBuf.baseAddress!, g)
            compact.withUnsafeBufferPointer { cBuf in
                let cp = SendablePointer(UnsafeMutablePointer(mutating: cBuf.baseAddress ?? wBuf.baseAddress!))
                parallelFor(parts, threads: threads) { part in
                    let range = ComputeContext.partRange(part, batch: B)
                    let groups = plan.groups(partSize: range.count)
                    let n = (range.count + groups - 1) / groups
                    let colCount = n * plan.largestColumnBlock, outCount = n * plan.largestPixels * O
                    let block = UnsafeMutablePointer<Float>.allocate(capacity: colCount + outCount + n * source.scratchCount)
                    let images = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: n)
                    defer { block.deallocate(); images.deallocate() }
                    let col = block, out = block + colCount, scratch = out + outCount
                    for group in 0..<groups {
                        let local = partRange(group, of: groups, count: range.count)
                        let first = range.lowerBound + local.lowerBound, m = local.count
                        for j in 0..<m { images[j] = source.image(first + j, scratch + j * source.scratchCount) }
                        for cls in plan.classes {
                            let np = cls.pixels.count, Kc = cls.columnCount
                            im2colClass(images, count: m, cls, g, col)
                            let (b, ldb) = plan.weightOperand(cls, full: wp.base, compact: cp.base,
                                                              outputs: O, columns: K)
                            sgemm(.none, .transposed, m: m * np, n: O, k: Kc, a: col, lda: Kc, b: b, ldb: ldb,
                                  c: out, ldc: O)
                            for j in 0..<m {
                                let image = y.base + (first + j) * g.outputSize
                                for (i, l) in cls.pixels.enumerated() {
                                    (image + l * O).update(from: out + (j * np + i) * O, count: O)
                                }
                            }
                        }
                    }
                }
            }
        }
        initialised = B * g.outputSize
    }
}

/// The backward pass by pixel classes; same contract as `convolutionBackward(source:…)`. Writes each part's O×K
/// weight gradient (column order) into `partials` (the caller sums the parts and permutes back); returns dX when
/// stored.
func classedConvolutionBackward(source: ConvolutionSource, batch B: Int, geometry g: ConvolutionGeometry,
                                weightColumns wk: [Float], plan: PixelClassPlan, dOutput dy: ConvolutionOutputGradient,
                                inputGradient: ConvolutionInputGradient, threads: Int,
                                partials: SendablePointer<Float>) -> [Float]? {
    let parts = ComputeContext.parts(batch: B)
    let O = g.outputChannels, K = g.columnCount, k = g.kernelSize, C = g.inputChannels
    let sinkScratch = inputGradient.sinkScratchCount, consume = inputGradient.consumer
    let wantsInputGradient = inputGradient.isWanted
    let L = g.outputPixels
    let body = { @Sendable (wp: SendablePointer<Float>, cp: SendablePointer<Float>, dxp: SendablePointer<Float>?) in
        parallelFor(parts, threads: threads) { part in
            let range = ComputeContext.partRange(part, batch: B)
            let groups = plan.groups(partSize: range.count)
            let n = (range.count + groups - 1) / groups
            let colCount = n * plan.largestColumnBlock, dyCount = n * plan.largestPixels * O
            let dcolCount = wantsInputGradient ? colCount : 0
            let dxCount = consume == nil ? 0 : n * g.inputSize + sinkScratch
            let formedCount = dy.scratchCount(rows: n * L, outputs: O)
            let block = UnsafeMutablePointer<Float>.allocate(
                capacity: colCount + dcolCount + dyCount + n * source.scratchCount + dxCount + formedCount)
            let images = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: n)
            let dxImages = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: n)
            defer { block.deallocate(); images.deallocate(); dxImages.deallocate() }
            let col = block, dcol = col + colCount, dyc = dcol + dcolCount, scratch = dyc + dyCount
            let dxGroup = scratch + n * source.scratchCount, consumerScratch = dxGroup + n * g.inputSize
            let formed = dxGroup + dxCount   // dY of the group when formed on demand
            let dW = partials.base + part * O * K
            dW.update(repeating: 0, count: O * K)
            for group in 0..<groups {
                let local = partRange(group, of: groups, count: range.count)
                let first = range.lowerBound + local.lowerBound, m = local.count
                let dyGroup = dy.rows((first * L)..<((first + m) * L), outputs: O, scratch: formed)
                for j in 0..<m {
                    images[j] = source.image(first + j, scratch + j * source.scratchCount)
                    if wantsInputGradient {
                        dxImages[j] = dxp.map { $0.base + (first + j) * g.inputSize } ?? (dxGroup + j * g.inputSize)
                        dxImages[j].update(repeating: 0, count: g.inputSize)
                    }
                }
                for cls in plan.classes {
                    let np = cls.pixels.count, Kc = cls.columnCount, N = m * np
                    im2colClass(images, count: m, cls, g, col)
                    for j in 0..<m {
                        let image = dyGroup + j * g.outputSize
                        for (i, l) in cls.pixels.enumerated() {
                            (dyc + (j * np + i) * O).update(from: image + l * O, count: O)
                        }
                    }
                    if let start = cls.contiguousStart {
                        sgemm(.transposed, .none, m: O, n: Kc, k: N, a: dyc, lda: O, b: col, ldb: Kc,
                              beta: 1, c: dW + start, ldc: K)
                    } else {
                        // One GEMM per kernel row: its k_c·C columns are contiguous in both orders.
                        let run = cls.kernelColumns.count * C
                        for (r, ki) in cls.kernelRows.enumerated() {
                            sgemm(.transposed, .none, m: O, n: run, k: N, a: dyc, lda: O, b: col + r * run, ldb: Kc,
                                  beta: 1, c: dW + (ki * k + cls.kernelColumns.lowerBound) * C, ldc: K)
                        }
                    }
                    guard wantsInputGradient else { continue }
                    let (b, ldb) = plan.weightOperand(cls, full: wp.base, compact: cp.base,
                                                      outputs: O, columns: K)
                    sgemm(.none, .none, m: N, n: Kc, k: O, a: dyc, lda: O, b: b, ldb: ldb, c: dcol, ldc: Kc)
                    col2imClass(dcol, cls, g, dxImages, count: m)
                }
                if let consume {
                    for j in 0..<m { consume(part, first + j, dxImages[j], consumerScratch) }
                }
            }
        }
    }
    var dx: [Float]? = nil
    wk.withUnsafeBufferPointer { wBuf in
        let compact = plan.compactWeights(wBuf.baseAddress!, g)
        compact.withUnsafeBufferPointer { cBuf in
            let cp = SendablePointer(UnsafeMutablePointer(mutating: cBuf.baseAddress ?? wBuf.baseAddress!))
            let wp = SendablePointer(wBuf.baseAddress!)
            dx = inputGradient.withStorage(count: B * g.inputSize) { body(wp, cp, $0) }
        }
    }
    return dx
}
