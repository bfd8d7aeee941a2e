// What the learner sees: a grid of original images beside their two augmented views (`scorescope data preview`),
// and the dataset summary printed by `scorescope data check`.
//
// The preview draws the first batch of epoch 0 of a two-view loader (so it shows exactly the crops, flips, jitter
// and blur a run with that seed starts from), un-normalised for display, each pixel scaled up to a visible size.
// Deliberately not here: text labels (Data does not link Cairo), writing anything but PNG.
import Foundation

/// An 8-bit RGB image, interleaved, rows top down.
public struct PreviewImage: Sendable {
    /// width × height × 3 bytes.
    public let pixels: [UInt8]
    /// Size in pixels.
    public let width: Int, height: Int

    /// Writes the image as an RGB PNG. Throws `DataError.writeFailed`.
    public func write(to path: String) throws {
        try writePNG(path: path, pixels: pixels, width: width, height: height, channels: 3)
    }
}

/// A grid of `count` rows: the original image, its first view, its second view (columns), on a dark background.
///
/// Images are the first batch of epoch 0 of `TwoViewLoader(dataset:batchSize: count, augmentation:seed:)`, each
/// pixel drawn as a square of ⌊96 / max(H, W)⌋ pixels (at least 1). Throws `DataError.invalidLoader` when `count`
/// is not in 1...dataset.count, and `invalidAugmentation` for a bad `augmentation`.
public func renderPreview(dataset: Dataset, count: Int, augmentation: AugmentationConfig, seed: UInt64) throws
    -> PreviewImage {
    let C = dataset.channels, H = dataset.height, W = dataset.width
    // mean 0, std 1: the views come out in [0, 1], with the same random draws as a normalised run.
    let loader = try TwoViewLoader(dataset: dataset, batchSize: count, augmentation: augmentation, seed: seed,
                                   threads: 2, mean: [Double](repeating: 0, count: C),
                                   std: [Double](repeating: 1, count: C))
    let batch = loader.batch(epoch: 0, index: 0)
    let zoom = max(1, 96 / max(H, W)), gap = 4
    let cellWidth = W * zoom, cellHeight = H * zoom
    let width = gap + 3 * (cellWidth + gap), height = gap + count * (cellHeight + gap)
    var pixels = [UInt8](repeating: 32, count: width * height * 3)
    let imageSize = C * H * W

    func paint(_ values: ArraySlice<Float>, row: Int, column: Int) {
        let base = values.startIndex
        let left = gap + column * (cellWidth + gap), top = gap + row * (cellHeight + gap)
        for y in 0..<cellHeight {
            for x in 0..<cellWidth {
                let sourcePixel = (y / zoom) * W + x / zoom
                let out = ((top + y) * width + left + x) * 3
                for channel in 0..<3 {
                    let value = values[base + min(channel, C - 1) * H * W + sourcePixel]
                    pixels[out + channel] = UInt8((min(1, max(0, value)) * 255).rounded())
                }
            }
        }
    }
    for row in 0..<count {
        paint(dataset.image(batch.indices[row]), row: row, column: 0)
        paint(batch.view1[(row * imageSize)..<((row + 1) * imageSize)], row: row, column: 1)
        paint(batch.view2[(row * imageSize)..<((row + 1) * imageSize)], row: row, column: 2)
    }
    return PreviewImage(pixels: pixels, width: width, height: height)
}

/// Counts, shape and statistics of one split, as `scorescope data check` prints them.
public struct SplitSummary: Codable, Sendable, Equatable {
    /// Which split.
    public let split: Split
    /// Number of images.
    public let count: Int
    /// Image shape C×H×W.
    public let channels: Int, height: Int, width: Int
    /// Per-channel mean and std of the pixels in [0, 1].
    public let mean: [Double], std: [Double]
    /// Images per class, by label.
    public let classCounts: [Int]

    /// The summary of `dataset`.
    public init(_ dataset: Dataset) {
        split = dataset.split
        count = dataset.count
        channels = dataset.channels
        height = dataset.height
        width = dataset.width
        mean = dataset.mean
        std = dataset.std
        classCounts = dataset.classCounts
    }

    private enum CodingKeys: String, CodingKey {
        case split, count, channels, height, width, mean, std
        case classCounts = "class_counts"
    }
}

/// Both splits of a dataset, as `scorescope data check` prints them.
public struct DatasetSummary: Codable, Sendable, Equatable {
    /// The canonical spec string.
    public let dataset: String
    /// Class names by label.
    public let classes: [String]
    /// The two splits.
    public let train: SplitSummary, test: SplitSummary

    /// The summary of both splits of `spec`.
    public init(spec: DatasetSpec, train: Dataset, test: Dataset) {
        dataset = spec.description
        classes = train.classNames
        self.train = SplitSummary(train)
        self.test = SplitSummary(test)
    }

    /// A few lines for people: classes, then per split the count, shape, mean and std.
    public var text: String {
        func numbers(_ values: [Double]) -> String {
            "[" + values.map { formatFixed($0, digits: 4) }.joined(separator: ", ") + "]"
        }
        func line(_ s: SplitSummary) -> String {
            "\(s.split.rawValue):".padding(toLength: 7, withPad: " ", startingAt: 0)
                + "\(s.count) images of \(s.channels)×\(s.height)×\(s.width), mean \(numbers(s.mean)), "
                + "std \(numbers(s.std))"
        }
        return """
            dataset: \(dataset)
            classes: \(classes.count) (\(classes.joined(separator: ", ")))
            \(line(train))
            \(line(test))
            """
    }
}

/// `value` with exactly `digits` decimals (no Foundation formatter needed).
func formatFixed(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let whole = Int(scaled / scale), fraction = Int(scaled.truncatingRemainder(dividingBy: scale))
    let fractionText = String(fraction)
    let padded = String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
    return (value < 0 && scaled > 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + padded : "")
}
