// Dataset values: statistics accumulated in Double against a plain twin, the class-balanced ?limit= subset, and the
// synthetic set (deterministic per seed, balanced, distinct classes).
import Foundation
import SeededRandom
import Testing
@testable import Data

/// Plain twin of `channelStatistics`: one Double pass for the mean, one for the variance.
private func plainStatistics(_ pixels: [Float], channels: Int, plane: Int) -> ([Double], [Double]) {
    let count = pixels.count / (channels * plane)
    var mean = [Double](repeating: 0, count: channels), variance = [Double](repeating: 0, count: channels)
    for c in 0..<channels {
        for n in 0..<count { for i in 0..<plane { mean[c] += Double(pixels[(n * channels + c) * plane + i]) } }
        mean[c] /= Double(count * plane)
        for n in 0..<count {
            for i in 0..<plane { let d = Double(pixels[(n * channels + c) * plane + i]) - mean[c]; variance[c] += d * d }
        }
        variance[c] /= Double(count * plane)
    }
    return (mean, variance.map { $0.squareRoot() })
}

@Test func channelStatisticsMatchThePlainTwin() throws {
    var generator = SeededGenerator(seed: 3)
    let channels = 3, plane = 7 * 5, count = 37
    // Channel c has its own offset so the means differ per channel.
    let pixels = (0..<(count * channels * plane)).map { k in Float(((k / plane) % channels)) * 0.2 + generator.nextFloat() * 0.5 }
    let dataset = try Dataset(images: pixels, labels: [Int32](repeating: 0, count: count), classNames: ["x"],
                              split: .train, channels: channels, height: 7, width: 5)
    let (mean, std) = plainStatistics(pixels, channels: channels, plane: plane)
    for c in 0..<channels {
        // Summation order differs (lanes, chunks): equal to 1e-12 relative.
        #expect(close(dataset.mean[c], mean[c], tolerance: 1e-12))
        #expect(close(dataset.std[c], std[c], tolerance: 1e-12))
    }
    #expect(abs(dataset.mean[2] - 0.65) < 0.02 && abs(dataset.std[0] - 0.5 / 12.0.squareRoot()) < 0.01)
}

@Test func datasetInitRejectsInconsistentShapes() {
    #expect(throws: DataError.self) {
        _ = try Dataset(images: [0, 0, 0], labels: [0, 0], classNames: ["a"], split: .train, channels: 1, height: 1, width: 1)
    }
    #expect(throwsError(.labelOutOfRange(path: "(in memory)", index: 1, label: 2, classCount: 2)) {
        _ = try Dataset(images: [0, 0], labels: [0, 2], classNames: ["a", "b"], split: .train, channels: 1, height: 1, width: 1)
    })
}

@Test func limitTakesABalancedSeededSubset() throws {
    // 3 classes with 10, 10 and 2 images.
    let labels: [Int32] = (0..<10).map { _ in 0 } + (0..<10).map { _ in 1 } + [2, 2]
    let pixels = labels.indices.map { Float($0) / 100 }
    let dataset = try Dataset(images: pixels, labels: labels, classNames: ["a", "b", "c"], split: .train,
                              channels: 1, height: 1, width: 1)
    let nine = dataset.limited(to: 9, seed: 5)
    #expect(nine.classCounts == [4, 3, 2])  // c runs out after 2; round-robin gives the spare ones to a, then b
    #expect(nine.count == 9)
    let indices = nine.images.map { Int(($0 * 100).rounded()) }
    #expect(indices == indices.sorted())  // original order kept
    #expect(dataset.limited(to: 9, seed: 5).images == nine.images)
    #expect((1...10).contains { dataset.limited(to: 9, seed: UInt64($0)).images != nine.images })
    #expect(dataset.limited(to: 100, seed: 1).count == 22)
    #expect(dataset.limited(to: 4, seed: 1).classCounts == [2, 1, 1])
    // Statistics are those of the subset.
    #expect(close(nine.mean[0], nine.images.map(Double.init).reduce(0, +) / 9, tolerance: 1e-12))
}

@Test func limitAppliesToEverySpecAndSplit() throws {
    let spec = try DatasetSpec(parsing: "synthetic:200?limit=30")
    let train = try spec.load(split: .train, seed: 1), test = try spec.load(split: .test, seed: 1)
    #expect(train.count == 30 && train.classCounts == [Int](repeating: 3, count: 10))
    #expect(test.count == 30)
}

@Test func syntheticImagesAreDeterministicBalancedAndInRange() throws {
    let spec = try DatasetSpec(parsing: "synthetic:50")
    let a = try spec.load(split: .train, seed: 11), b = try spec.load(split: .train, seed: 11)
    #expect(a.images == b.images && a.labels == b.labels)
    #expect(try spec.load(split: .train, seed: 12).images != a.images)
    #expect(a.count == 50 && a.classCounts == [Int](repeating: 5, count: 10))
    #expect(a.channels == 1 && a.height == 28 && a.width == 28)
    #expect(a.images.allSatisfy { $0 >= 0 && $0 <= 1 })
    let test = try spec.load(split: .test, seed: 11)
    #expect(test.count == syntheticTestCount(trainCount: 50) && test.images != Array(a.images.prefix(test.images.count)))

    let rgb = try DatasetSpec(parsing: "synthetic:20?channels=3&size=32").load(split: .train, seed: 1)
    #expect(rgb.channels == 3 && rgb.height == 32 && rgb.imageSize == 3072)
    // RGB images are tinted: the channels of one image differ.
    let image = Array(rgb.image(0))
    #expect(image[0..<1024] != image[1024..<2048])
}

@Test func syntheticClassesAreDistinctEnoughForNearestNeighbours() throws {
    // 1-nearest-neighbour on raw pixels, 300 training images, 100 test images: a weak learner that still must beat
    // chance (10 %) by far if the classes look different. (Measured 0.44 with seed 2; shapes move, so raw pixels are a poor
    // representation: exactly what contrastive learning has to fix.)
    let spec = try DatasetSpec(parsing: "synthetic:300?size=16")
    let train = try spec.load(split: .train, seed: 2), test = try spec.load(split: .test, seed: 2)
    let size = train.imageSize
    var correct = 0
    train.images.withUnsafeBufferPointer { trainPixels in
        test.images.withUnsafeBufferPointer { testPixels in
            for t in 0..<test.count {
                var best = Float.infinity, bestLabel: Int32 = -1
                for n in 0..<train.count {
                    var distance: Float = 0
                    for i in 0..<size { let d = trainPixels[n * size + i] - testPixels[t * size + i]; distance += d * d }
                    if distance < best { best = distance; bestLabel = train.labels[n] }
                }
                if bestLabel == test.labels[t] { correct += 1 }
            }
        }
    }
    #expect(Double(correct) / Double(test.count) > 0.3, "1-NN accuracy \(correct)/\(test.count)")
}
