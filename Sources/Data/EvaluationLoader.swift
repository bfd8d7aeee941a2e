// Plain evaluation images: un-augmented, normalised with the TRAINING split's statistics, in dataset order.
//
// For the kNN monitor and the linear probe, which embed every train and test image once per evaluation. The last
// batch keeps the remainder (nothing is dropped).
// Deliberately not here: augmentation, shuffling.

/// A run of consecutive dataset images, normalised.
public struct EvaluationBatch: Sendable {
    /// Images, count×C×H×W, normalised.
    public let images: [Float]
    /// Their labels.
    public let labels: [Int32]
    /// Their dataset indices (consecutive).
    public let indices: Range<Int>
    /// Images in this batch (the last batch may be smaller than the batch size), C, H, W.
    public let count: Int, channels: Int, height: Int, width: Int
}

extension Dataset {
    /// Every image, normalised per channel: (x − mean) / std (a channel with std 0 is only shifted), N×C×H×W.
    /// Pass the training split's `mean`/`std` when normalising test images.
    public func normalizedImages(mean: [Double], std: [Double]) -> [Float] {
        normalizedImages(range: 0..<count, mean: mean, std: std)
    }

    /// Images `range`, normalised per channel, range.count×C×H×W. `mean`/`std` need one value per channel.
    public func normalizedImages(range: Range<Int>, mean: [Double], std: [Double]) -> [Float] {
        precondition(mean.count == channels && std.count == channels, "mean/std need \(channels) values each")
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range \(range) outside 0..<\(count)")
        let plane = height * width, size = imageSize
        let shift = mean.map { Float($0) }, scale = std.map { Float($0 > 0 ? 1 / $0 : 1) }
        var output = [Float](repeating: 0, count: range.count * size)
        images.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                for (slot, image) in range.enumerated() {
                    for c in 0..<channels {
                        let m = shift[c], s = scale[c]
                        let from = image * size + c * plane, to = slot * size + c * plane
                        for i in 0..<plane { destination[to + i] = (source[from + i] - m) * s }
                    }
                }
            }
        }
        return output
    }
}

/// Consecutive normalised batches of a dataset, for embedding every image once.
public struct EvaluationLoader: Sendable {
    /// The images.
    public let dataset: Dataset
    /// Images per batch (the last batch may hold fewer).
    public let batchSize: Int
    /// Normalisation statistics (the training split's).
    public let mean: [Double], std: [Double]

    /// Batches of `dataset` normalised with `mean`/`std` (pass the training split's statistics).
    /// Throws `DataError.invalidLoader` for `batchSize` < 1 or mean/std without one value per channel.
    public init(dataset: Dataset, batchSize: Int, mean: [Double], std: [Double]) throws {
        if batchSize < 1 { throw DataError.invalidLoader(problem: "batch size must be ≥ 1, got \(batchSize)") }
        if mean.count != dataset.channels || std.count != dataset.channels {
            throw DataError.invalidLoader(problem: "normalisation needs \(dataset.channels) mean and std values, got "
                + "\(mean.count) and \(std.count)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.mean = mean
        self.std = std
    }

    /// Number of batches, the last possibly partial.
    public var batchCount: Int { (dataset.count + batchSize - 1) / batchSize }

    /// Batch `index` (in 0..<batchCount).
    public func batch(_ index: Int) -> EvaluationBatch {
        precondition(index >= 0 && index < batchCount, "evaluation batch \(index) outside 0..<\(batchCount)")
        let range = (index * batchSize) ..< min(dataset.count, (index + 1) * batchSize)
        return EvaluationBatch(images: dataset.normalizedImages(range: range, mean: mean, std: std),
                               labels: Array(dataset.labels[range]), indices: range, count: range.count,
                               channels: dataset.channels, height: dataset.height, width: dataset.width)
    }
}
