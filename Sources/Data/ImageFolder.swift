// Folder datasets (`folder:DIR[?size=N]`): one sub-folder of PNG images per class, like torchvision's ImageFolder.
//
// Layout: `DIR/<class>/*.png`, or `DIR/train/<class>/*.png` + `DIR/test/<class>/*.png` when both `train/` and
// `test/` exist. Classes are the sub-folder names in byte order (the union over both splits). Without `train/` and
// `test/`, a seeded split puts ⌊n/5⌋ (at least 1 when n ≥ 2) images of each class in the test split.
// A header pass over every image of both splits fixes the channel count (RGB if any image is colour, so train and
// test agree) and checks that all images have one size (or `?size=N` centre-crops the largest square and resizes
// it to N×N with an antialiased bilinear filter). Images are then decoded on all cores.
// Hidden files and nested folders inside class folders are skipped; any other non-PNG file is an error.
// Deliberately not here: formats other than PNG, recursive class trees, per-image sizes.
import Foundation
import Parallel
import SeededRandom

/// One split of a folder dataset.
func loadImageFolder(directory: String, size: Int?, split: Split, seed: UInt64) throws -> Dataset {
    try requireFolder(directory)
    let trainFolder = joinPath(directory, "train"), testFolder = joinPath(directory, "test")
    let hasSplitFolders = isFolder(trainFolder) && isFolder(testFolder)

    // Files of both splits, per class name.
    var trainFiles: [String: [String]] = [:], testFiles: [String: [String]] = [:]
    if hasSplitFolders {
        trainFiles = try listClassFolders(trainFolder)
        testFiles = try listClassFolders(testFolder)
    } else {
        let all = try listClassFolders(directory)
        var generator = SeededGenerator(seed: seed).stream(StreamID.folderSplit)
        for (name, files) in all.sorted(by: { $0.key < $1.key }) {
            var order = Array(files.indices)
            generator.shuffle(&order)
            let testCount = files.count >= 2 ? max(1, files.count / 5) : 0
            testFiles[name] = order.prefix(testCount).sorted().map { files[$0] }
            trainFiles[name] = order.dropFirst(testCount).sorted().map { files[$0] }
        }
    }
    let classNames = Set(trainFiles.keys).union(testFiles.keys).sorted()
    if classNames.isEmpty { throw DataError.noClassFolders(path: hasSplitFolders ? trainFolder : directory) }

    // Header pass over both splits: channel count and size agreement.
    var isColour = false
    var first: (path: String, header: PNGHeader)?
    for name in classNames {
        for path in (trainFiles[name] ?? []) + (testFiles[name] ?? []) {
            let header = try readPNGHeader(path)
            isColour = isColour || header.isColour
            if size == nil {
                if let reference = first {
                    if reference.header.width != header.width || reference.header.height != header.height {
                        throw DataError.mixedImageSizes(
                            firstPath: reference.path, firstSize: "\(reference.header.width)×\(reference.header.height)",
                            otherPath: path, otherSize: "\(header.width)×\(header.height)")
                    }
                } else {
                    first = (path, header)
                }
            }
        }
    }
    let channels = isColour ? 3 : 1
    let height = size ?? first?.header.height ?? 0, width = size ?? first?.header.width ?? 0

    // The split's files, in class then name order.
    let chosen = split == .train ? trainFiles : testFiles
    var paths: [String] = [], labels: [Int32] = []
    for (label, name) in classNames.enumerated() {
        for path in chosen[name] ?? [] {
            paths.append(path)
            labels.append(Int32(label))
        }
    }
    if paths.isEmpty { throw DataError.emptySplit(source: directory, split: split.rawValue) }

    let pixels = try decodeImages(paths, channels: channels, height: height, width: width, resize: size != nil)
    let statistics = channelStatistics(pixels, channels: channels, plane: height * width)
    return Dataset(images: pixels, labels: labels, classNames: classNames, split: split,
                   channels: channels, height: height, width: width, coarseLabels: nil, coarseClassNames: nil,
                   mean: statistics.mean, std: statistics.std)
}

private func isFolder(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

/// Class folder name → its PNG files (sorted), for every non-hidden sub-folder of `directory`.
/// Throws `noClassFolders`, `emptyClassFolder`, `notPNG`.
private func listClassFolders(_ directory: String) throws -> [String: [String]] {
    let entries: [String]
    do {
        entries = try FileManager.default.contentsOfDirectory(atPath: directory)
    } catch {
        throw DataError.unreadableFile(path: directory, problem: error.localizedDescription)
    }
    var classes: [String: [String]] = [:]
    for name in entries.sorted() where !name.hasPrefix(".") {
        let classFolder = joinPath(directory, name)
        if !isFolder(classFolder) { continue }  // README, LICENSE, ... beside the class folders
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: classFolder)
        } catch {
            throw DataError.unreadableFile(path: classFolder, problem: error.localizedDescription)
        }
        var images: [String] = []
        for file in files.sorted() where !file.hasPrefix(".") {
            let path = joinPath(classFolder, file)
            if isFolder(path) { continue }
            if !hasPNGSignature(path) { throw DataError.notPNG(path: path) }
            images.append(path)
        }
        if images.isEmpty { throw DataError.emptyClassFolder(path: classFolder) }
        classes[name] = images
    }
    if classes.isEmpty { throw DataError.noClassFolders(path: directory) }
    return classes
}

/// Decodes `paths` on all cores into N×C×H×W floats in [0, 1]. With `resize`, each image's centred largest square
/// is resized to height×width; otherwise every image must already be height×width. The first failing file (in
/// `paths` order) is the error thrown, whatever the core count.
private func decodeImages(_ paths: [String], channels: Int, height: Int, width: Int, resize: Bool) throws -> [Float] {
    let imageSize = channels * height * width
    var pixels = [Float](repeating: 0, count: paths.count * imageSize)
    let errors = ErrorSlots(count: paths.count)
    let chunks = min(paths.count, 64)
    pixels.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        let output = SendablePointer(base)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            for index in (chunk * paths.count / chunks) ..< ((chunk + 1) * paths.count / chunks) {
                do {
                    let decoded = try readPNG(paths[index], channels: channels)
                    if !resize && (decoded.width != width || decoded.height != height) {
                        // The header pass checked sizes; a file changed under us.
                        throw DataError.corruptPNG(path: paths[index], problem: "size changed while loading")
                    }
                    let planar = interleavedToPlanar(decoded.pixels, channels: channels,
                                                     height: decoded.height, width: decoded.width)
                    let image = resize
                        ? resizeCentreSquare(planar, channels: channels, height: decoded.height,
                                             width: decoded.width, size: height)
                        : planar
                    let destination = output.base + index * imageSize
                    for i in 0..<imageSize { destination[i] = image[i] }
                } catch {
                    errors.set(index, error)
                }
            }
        }
    }
    if let error = errors.first { throw error }
    return pixels
}

/// Per-index error slots written from `concurrentPerform` (each index by one iteration only).
private final class ErrorSlots: @unchecked Sendable {
    private var slots: [Error?]
    private let lock = NSLock()
    init(count: Int) { slots = [Error?](repeating: nil, count: count) }
    func set(_ index: Int, _ error: Error) { lock.lock(); slots[index] = error; lock.unlock() }
    var first: Error? { lock.lock(); defer { lock.unlock() }; return slots.lazy.compactMap { $0 }.first }
}

/// H×W×C bytes to C×H×W floats in [0, 1].
func interleavedToPlanar(_ bytes: [UInt8], channels: Int, height: Int, width: Int) -> [Float] {
    let plane = height * width
    var planar = [Float](repeating: 0, count: channels * plane)
    for pixel in 0..<plane {
        for channel in 0..<channels { planar[channel * plane + pixel] = Float(bytes[pixel * channels + channel]) / 255 }
    }
    return planar
}

/// The centred largest square of a C×H×W image, resized to C×size×size.
///
/// Separable antialiased bilinear resampling (a triangle filter widened by the scale factor when shrinking, the
/// way PIL resizes), so large photos do not alias when brought down to a few dozen pixels.
func resizeCentreSquare(_ image: [Float], channels: Int, height: Int, width: Int, size: Int) -> [Float] {
    let side = min(height, width)
    let top = (height - side) / 2, left = (width - side) / 2
    if side == size {
        var out = [Float](repeating: 0, count: channels * size * size)
        for c in 0..<channels {
            for y in 0..<size {
                for x in 0..<size { out[(c * size + y) * size + x] = image[(c * height + top + y) * width + left + x] }
            }
        }
        return out
    }
    let taps = resampleTaps(inputSize: side, outputSize: size)
    // Horizontal pass: C × side rows (of the crop) × size columns.
    var horizontal = [Float](repeating: 0, count: channels * side * size)
    for c in 0..<channels {
        for y in 0..<side {
            let row = (c * height + top + y) * width + left
            for x in 0..<size {
                var sum: Float = 0
                for (offset, weight) in zip(taps.first[x]..., taps.weights[x]) { sum += weight * image[row + offset] }
                horizontal[(c * side + y) * size + x] = sum
            }
        }
    }
    var out = [Float](repeating: 0, count: channels * size * size)
    for c in 0..<channels {
        for y in 0..<size {
            for x in 0..<size {
                var sum: Float = 0
                for (offset, weight) in zip(taps.first[y]..., taps.weights[y]) {
                    sum += weight * horizontal[(c * side + offset) * size + x]
                }
                out[(c * size + y) * size + x] = min(1, max(0, sum))
            }
        }
    }
    return out
}

/// For each output position: the first input index it reads and the normalised weights of its taps.
private func resampleTaps(inputSize: Int, outputSize: Int) -> (first: [Int], weights: [[Float]]) {
    let scale = Double(inputSize) / Double(outputSize)
    let support = max(scale, 1)
    var first: [Int] = [], weights: [[Float]] = []
    for i in 0..<outputSize {
        let centre = (Double(i) + 0.5) * scale
        let lo = max(0, Int((centre - support).rounded(.down)))
        let hi = min(inputSize, Int((centre + support).rounded(.up)))
        var w: [Double] = []
        for j in lo..<hi { w.append(max(0, 1 - abs((Double(j) + 0.5 - centre) / support))) }
        let total = w.reduce(0, +)
        first.append(lo)
        weights.append(w.map { Float(total > 0 ? $0 / total : 0) })
    }
    return (first, weights)
}
