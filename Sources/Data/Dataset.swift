// Dataset: one split of labelled images as Float32 in [0, 1] (N×C×H×W), with per-channel mean and std.
//
// The statistics are accumulated in Double over a fixed number of chunks reduced in a fixed order, so they are
// the same bytes whatever the core count (summing 47 M pixels in Float is wrong by 5 %: see swift-notes.md).
// Also here: the class-balanced seeded subset behind `?limit=N`.
// Deliberately not here: file formats (IDX.swift, CIFAR.swift, ImageFolder.swift), augmentation, batching.
import Foundation
import Parallel
import SeededRandom

/// Which part of a dataset: the images a learner trains on, or the held-out images it is evaluated on.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, test
}

/// One split of a labelled image dataset.
///
/// `images` holds `count` images of `channels × height × width` Float32 values in [0, 1], image after image,
/// channel planes in order (N×C×H×W). `mean` and `std` are the per-channel population statistics of these
/// pixels, accumulated in Double.
public struct Dataset: Sendable {
    /// Pixels, N×C×H×W, each in [0, 1].
    public let images: [Float]
    /// The class of each image, in `0..<classNames.count`.
    public let labels: [Int32]
    /// Class names, indexed by label.
    public let classNames: [String]
    /// CIFAR-100's coarse (super-class) label of each image; nil for other datasets.
    public let coarseLabels: [Int32]?
    /// CIFAR-100's 20 super-class names; nil for other datasets.
    public let coarseClassNames: [String]?
    /// Which split these images are.
    public let split: Split
    /// Channels per image (1 grey, 3 RGB).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// Per-channel mean of the pixels (population statistic, accumulated in Double).
    public let mean: [Double]
    /// Per-channel standard deviation of the pixels (population statistic, divides by N·H·W).
    public let std: [Double]

    /// Number of images.
    public var count: Int { labels.count }
    /// Number of classes.
    public var classCount: Int { classNames.count }
    /// Values per image: channels × height × width.
    public var imageSize: Int { channels * height * width }

    /// A dataset from pixels and labels; computes the per-channel mean and std.
    ///
    /// Throws `DataError.invalidLoader` when the shapes disagree (pixel count not `labels.count × C×H×W`, a
    /// non-positive dimension) and `DataError.labelOutOfRange` for a label outside `0..<classNames.count`.
    public init(
        images: [Float], labels: [Int32], classNames: [String], split: Split,
        channels: Int, height: Int, width: Int,
        coarseLabels: [Int32]? = nil, coarseClassNames: [String]? = nil
    ) throws {
        if channels <= 0 || height <= 0 || width <= 0 {
            throw DataError.invalidLoader(problem: "image shape \(channels)×\(height)×\(width) has a dimension ≤ 0")
        }
        if images.count != labels.count * channels * height * width {
            throw DataError.invalidLoader(problem: "\(images.count) pixel values do not make \(labels.count) images "
                + "of \(channels)×\(height)×\(width)")
        }
        if let coarse = coarseLabels, coarse.count != labels.count {
            throw DataError.invalidLoader(problem: "\(coarse.count) coarse labels for \(labels.count) images")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw DataError.labelOutOfRange(path: "(in memory)", index: bad, label: Int(labels[bad]),
                                            classCount: classNames.count)
        }
        let statistics = channelStatistics(images, channels: channels, plane: height * width)
        self.init(images: images, labels: labels, classNames: classNames, split: split,
                  channels: channels, height: height, width: width,
                  coarseLabels: coarseLabels, coarseClassNames: coarseClassNames,
                  mean: statistics.mean, std: statistics.std)
    }

    /// Memberwise, statistics given; for the loaders, which have validated everything.
    init(
        images: [Float], labels: [Int32], classNames: [String], split: Split,
        channels: Int, height: Int, width: Int,
        coarseLabels: [Int32]?, coarseClassNames: [String]?, mean: [Double], std: [Double]
    ) {
        self.images = images
        self.labels = labels
        self.classNames = classNames
        self.coarseLabels = coarseLabels
        self.coarseClassNames = coarseClassNames
        self.split = split
        self.channels = channels
        self.height = height
        self.width = width
        self.mean = mean
        self.std = std
    }

    /// Pixels of image `index` (C×H×W values).
    public func image(_ index: Int) -> ArraySlice<Float> {
        images[index * imageSize ..< (index + 1) * imageSize]
    }

    /// Number of images per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// The images at `indices` (in that order), with statistics recomputed over them.
    /// Every index must be in `0..<count` (a programmer error otherwise).
    public func subset(_ indices: [Int]) -> Dataset {
        let size = imageSize
        var pixels = [Float]()
        pixels.reserveCapacity(indices.count * size)
        for index in indices {
            precondition(index >= 0 && index < count, "subset index \(index) outside 0..<\(count)")
            pixels.append(contentsOf: images[index * size ..< (index + 1) * size])
        }
        let statistics = channelStatistics(pixels, channels: channels, plane: height * width)
        return Dataset(images: pixels, labels: indices.map { labels[$0] }, classNames: classNames, split: split,
                       channels: channels, height: height, width: width,
                       coarseLabels: coarseLabels.map { coarse in indices.map { coarse[$0] } },
                       coarseClassNames: coarseClassNames, mean: statistics.mean, std: statistics.std)
    }

    /// A class-balanced, seeded subset of `limit` images (all of them when `limit >= count`).
    ///
    /// Each class contributes `limit / classCount` images (the first `limit % classCount` classes one more); a class
    /// with too few images gives all it has and the others make up the difference. Which images is drawn from
    /// `seed`; they keep their original order. `limit` must be > 0 (the spec parser rejects 0 and negatives).
    public func limited(to limit: Int, seed: UInt64) -> Dataset {
        subset(balancedSubsetIndices(labels: labels, classCount: classCount, limit: limit,
                                     generator: SeededGenerator(seed: seed).stream(StreamID.limit)
                                         .stream(split == .train ? 0 : 1)))
    }
}

/// Stream ids under a loader's or spec's seed; fixed so that one stream never shifts another.
enum StreamID {
    static let order: UInt64 = 1
    static let augmentation: UInt64 = 2
    static let limit: UInt64 = 3
    static let folderSplit: UInt64 = 4
    static let synthetic: UInt64 = 5
}

/// Indices of a class-balanced subset of `limit` items (sorted). Round-robin over the classes, each class's
/// candidates in a seeded random order.
func balancedSubsetIndices(labels: [Int32], classCount: Int, limit: Int, generator: SeededGenerator) -> [Int] {
    if limit >= labels.count { return Array(labels.indices) }
    var members = [[Int]](repeating: [], count: classCount)
    for (index, label) in labels.enumerated() { members[Int(label)].append(index) }
    for cls in 0..<classCount {
        var classGenerator = generator.stream(UInt64(cls))
        classGenerator.shuffle(&members[cls])
    }
    var chosen: [Int] = []
    chosen.reserveCapacity(limit)
    var round = 0
    while chosen.count < limit {
        for cls in 0..<classCount where round < members[cls].count && chosen.count < limit {
            chosen.append(members[cls][round])
        }
        round += 1
    }
    return chosen.sorted()
}

/// Per-channel population mean and std of N×C×(plane) pixels, accumulated in Double: two passes (mean, then
/// squared deviations) over a fixed number of image chunks, reduced in chunk order, so the result does not
/// depend on how many cores ran the chunks.
func channelStatistics(_ pixels: [Float], channels: Int, plane: Int) -> (mean: [Double], std: [Double]) {
    let imageSize = channels * plane
    let count = imageSize == 0 ? 0 : pixels.count / imageSize
    if count == 0 { return ([Double](repeating: 0, count: channels), [Double](repeating: 0, count: channels)) }
    let chunks = min(count, 16)
    let total = Double(count * plane)

    func perChunk(_ body: @escaping @Sendable (UnsafePointer<Float>, Int) -> Double) -> [Double] {
        // partial[chunk * channels + channel]
        var partial = [Double](repeating: 0, count: chunks * channels)
        pixels.withUnsafeBufferPointer { source in
            partial.withUnsafeMutableBufferPointer { sums in
                guard let sourceBase = source.baseAddress, let sumsBase = sums.baseAddress else { return }
                let source = SendablePointer(sourceBase)
                let sums = SendablePointer(sumsBase)
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    let first = chunk * count / chunks, last = (chunk + 1) * count / chunks
                    for image in first..<last {
                        for channel in 0..<channels {
                            sums.base[chunk * channels + channel] +=
                                body(source.base + image * imageSize + channel * plane, channel)
                        }
                    }
                }
            }
        }
        var result = [Double](repeating: 0, count: channels)
        for chunk in 0..<chunks {
            for channel in 0..<channels { result[channel] += partial[chunk * channels + channel] }
        }
        return result
    }

    let sums = perChunk { row, _ in sumOfPlane(row, plane) }
    let mean = sums.map { $0 / total }
    let squares = perChunk { row, channel in sumOfSquaredDeviations(row, plane, mean[channel]) }
    return (mean, squares.map { ($0 / total).squareRoot() })
}

/// Sum of `n` floats in Double, four lanes at a time.
@inline(__always)
private func sumOfPlane(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var lanes = SIMD4<Double>(repeating: 0)
    var i = 0
    while i + 4 <= n {
        lanes += SIMD4<Double>(Double(x[i]), Double(x[i + 1]), Double(x[i + 2]), Double(x[i + 3]))
        i += 4
    }
    var total = lanes.sum()
    while i < n { total += Double(x[i]); i += 1 }
    return total
}

/// Sum of (x - mean)² over `n` floats in Double, four lanes at a time.
@inline(__always)
private func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, _ mean: Double) -> Double {
    var lanes = SIMD4<Double>(repeating: 0)
    let m = SIMD4<Double>(repeating: mean)
    var i = 0
    while i + 4 <= n {
        let d = SIMD4<Double>(Double(x[i]), Double(x[i + 1]), Double(x[i + 2]), Double(x[i + 3])) - m
        lanes += d * d
        i += 4
    }
    var total = lanes.sum()
    while i < n { let d = Double(x[i]) - mean; total += d * d; i += 1 }
    return total
}
