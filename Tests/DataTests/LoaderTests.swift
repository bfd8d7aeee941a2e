// Two-view and evaluation loaders: shapes, dropped last batch, determinism in (seed, epoch, index) whatever the
// thread count, prefetching equal to random access, and normalisation with the training statistics.
import Foundation
import Testing
@testable import Data

private func smallSet(count: Int = 50, channels: Int = 1) throws -> Dataset {
    try DatasetSpec(source: .synthetic(count: count, size: 12, channels: channels)).load(split: .train, seed: 3)
}

@Test func batchesHaveTheRightShapeAndDropTheRemainder() throws {
    let dataset = try smallSet(count: 50, channels: 3)
    let loader = try TwoViewLoader(dataset: dataset, batchSize: 16, seed: 1)
    #expect(loader.batchesPerEpoch == 3)  // 50 = 3 × 16 + 2 dropped
    let batch = loader.batch(epoch: 0, index: 2)
    #expect(batch.batchSize == 16 && batch.channels == 3 && batch.height == 12 && batch.width == 12)
    #expect(batch.view1.count == 16 * 3 * 144 && batch.view2.count == batch.view1.count)
    #expect(batch.labels == batch.indices.map { dataset.labels[$0] })
    #expect(batch.view1 != batch.view2)
    // An epoch visits distinct images in the order of its permutation.
    let order = loader.order(epoch: 0)
    #expect(Set(order) == Set(0..<50))
    let visited = (0..<3).flatMap { loader.batch(epoch: 0, index: $0).indices }
    #expect(visited == Array(order.prefix(48)))
    #expect(loader.order(epoch: 1) != order)
}

@Test func batchesArePureInSeedEpochAndIndex() throws {
    let dataset = try smallSet()
    let loader = try TwoViewLoader(dataset: dataset, batchSize: 8, seed: 42)
    let again = try TwoViewLoader(dataset: dataset, batchSize: 8, seed: 42)
    let first = loader.batch(epoch: 3, index: 4)
    _ = loader.batch(epoch: 0, index: 0)  // no hidden state between calls
    let second = again.batch(epoch: 3, index: 4)
    #expect(first.view1 == second.view1 && first.view2 == second.view2 && first.indices == second.indices)
    let otherSeed = try TwoViewLoader(dataset: dataset, batchSize: 8, seed: 43).batch(epoch: 3, index: 4)
    #expect(otherSeed.view1 != first.view1)
}

@Test(arguments: [1, 3])
func theThreadCountDoesNotChangeTheViews(channels: Int) throws {
    let dataset = try smallSet(count: 40, channels: channels)
    let config = AugmentationConfig(recipe: .v2)
    let one = try TwoViewLoader(dataset: dataset, batchSize: 20, augmentation: config, seed: 9, threads: 1)
    for threads in [2, 3, 8] {
        let many = try TwoViewLoader(dataset: dataset, batchSize: 20, augmentation: config, seed: 9, threads: threads)
        for index in 0..<2 {
            let a = one.batch(epoch: 1, index: index), b = many.batch(epoch: 1, index: index)
            #expect(a.view1 == b.view1 && a.view2 == b.view2 && a.indices == b.indices)
        }
    }
}

@Test func anImagesViewsDependOnItsPositionNotOnItsBatchmates() throws {
    // Batch size 10 vs 5: position p of the epoch is the same image with the same views either way.
    let dataset = try smallSet()
    let big = try TwoViewLoader(dataset: dataset, batchSize: 10, seed: 5)
    let small = try TwoViewLoader(dataset: dataset, batchSize: 5, seed: 5)
    let a = big.batch(epoch: 2, index: 1), b = small.batch(epoch: 2, index: 3)  // positions 10..<20 and 15..<20
    let size = dataset.imageSize
    #expect(Array(a.indices[5...]) == b.indices)
    #expect(Array(a.view2[(5 * size)...]) == b.view2)
}

@Test func prefetchingYieldsExactlyTheRandomAccessBatches() throws {
    let dataset = try smallSet()
    let loader = try TwoViewLoader(dataset: dataset, batchSize: 7, seed: 11, threads: 2)
    var count = 0
    for batch in loader.prefetching(epoch: 1, from: 2) {
        let direct = loader.batch(epoch: 1, index: batch.index)
        #expect(batch.index == 2 + count && batch.epoch == 1)
        #expect(batch.view1 == direct.view1 && batch.view2 == direct.view2 && batch.labels == direct.labels)
        count += 1
    }
    #expect(count == loader.batchesPerEpoch - 2)
    #expect(Array(loader.prefetching(epoch: 0, from: loader.batchesPerEpoch)).isEmpty)
    // Abandoning an iterator mid-epoch is fine (its pending batch finishes in the background).
    var iterator = loader.prefetching(epoch: 0).makeIterator()
    #expect(iterator.next()?.index == 0)
}

@Test func identityAugmentationGivesTheNormalisedImages() throws {
    let dataset = try smallSet(channels: 3)
    let loader = try TwoViewLoader(dataset: dataset, batchSize: 6, augmentation: .identity, seed: 0)
    let batch = loader.batch(epoch: 0, index: 0)
    let normalised = dataset.normalizedImages(mean: dataset.mean, std: dataset.std)
    let size = dataset.imageSize
    for (slot, index) in batch.indices.enumerated() {
        let expected = Array(normalised[(index * size)..<((index + 1) * size)])
        #expect(Array(batch.view1[(slot * size)..<((slot + 1) * size)]) == expected)
        #expect(Array(batch.view2[(slot * size)..<((slot + 1) * size)]) == expected)
    }
    // Normalised pixels have mean ≈ 0 and std ≈ 1 per channel over the whole set.
    let plane = 144
    for c in 0..<3 {
        var values: [Double] = []
        for n in 0..<dataset.count { values += normalised[(n * size + c * plane)..<(n * size + (c + 1) * plane)].map(Double.init) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4)
    }
}

@Test func badLoaderSettingsAreRejected() throws {
    let dataset = try smallSet(count: 20)
    #expect(throws: DataError.self) { _ = try TwoViewLoader(dataset: dataset, batchSize: 0, seed: 0) }
    #expect(throws: DataError.self) { _ = try TwoViewLoader(dataset: dataset, batchSize: 21, seed: 0) }
    #expect(throws: DataError.self) { _ = try TwoViewLoader(dataset: dataset, batchSize: 4, seed: 0, threads: 0) }
    #expect(throws: DataError.self) { _ = try TwoViewLoader(dataset: dataset, batchSize: 4, seed: 0, mean: [0, 0]) }
    var config = AugmentationConfig()
    config.greyscaleProbability = 2
    #expect(throws: DataError.self) { _ = try TwoViewLoader(dataset: dataset, batchSize: 4, augmentation: config, seed: 0) }
    #expect(throws: DataError.self) { _ = try EvaluationLoader(dataset: dataset, batchSize: 0, mean: [0], std: [1]) }
    #expect(throws: DataError.self) { _ = try EvaluationLoader(dataset: dataset, batchSize: 4, mean: [0, 0, 0], std: [1]) }
}

@Test func evaluationBatchesCoverEveryImageWithTheTrainingStatistics() throws {
    let spec = try DatasetSpec(parsing: "synthetic:60?size=10")
    let train = try spec.load(split: .train, seed: 1), test = try spec.load(split: .test, seed: 1)
    let loader = try EvaluationLoader(dataset: test, batchSize: 5, mean: train.mean, std: train.std)
    #expect(test.count == 12 && loader.batchCount == 3)
    let batches = (0..<loader.batchCount).map(loader.batch)
    #expect(batches.map(\.count) == [5, 5, 2])
    #expect(batches.flatMap(\.indices) == Array(0..<12))
    #expect(batches.flatMap(\.labels) == test.labels)
    let all = batches.flatMap(\.images)
    let expected = test.images.map { Float((Double($0) - train.mean[0]) / train.std[0]) }
    #expect(maxDifference(all, expected) < 1e-6)
}

@Test func previewShowsOriginalsBesideTheirViews() throws {
    let dataset = try smallSet(count: 20, channels: 1)
    let preview = try renderPreview(dataset: dataset, count: 4, augmentation: AugmentationConfig(), seed: 0)
    let zoom = 96 / 12
    #expect(preview.width == 4 + 3 * (12 * zoom + 4) && preview.height == 4 + 4 * (12 * zoom + 4))
    // The first cell shows the first image of epoch 0, enlarged: its top-left pixel fills a zoom × zoom square.
    let loader = try TwoViewLoader(dataset: dataset, batchSize: 4, seed: 0)
    let first = loader.batch(epoch: 0, index: 0).indices[0]
    let expected = UInt8((dataset.image(first).first! * 255).rounded())
    for (y, x) in [(4, 4), (4 + zoom - 1, 4 + zoom - 1)] {
        let offset = (y * preview.width + x) * 3
        #expect(Array(preview.pixels[offset..<(offset + 3)]) == [expected, expected, expected])
    }
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try preview.write(to: folder.file("preview.png"))
    let back = try readPNG(folder.file("preview.png"), channels: 3)
    #expect(back.pixels == preview.pixels && back.width == preview.width)
    #expect(throws: DataError.self) { _ = try renderPreview(dataset: dataset, count: 21, augmentation: .init(), seed: 0) }
}

@Test func summaryReportsBothSplits() throws {
    let spec = try DatasetSpec(parsing: "synthetic:30")
    let summary = DatasetSummary(spec: spec, train: try spec.load(split: .train, seed: 0),
                                 test: try spec.load(split: .test, seed: 0))
    #expect(summary.train.count == 30 && summary.test.count == 10 && summary.classes.count == 10)
    let json = String(decoding: try JSONEncoder().encode(summary), as: UTF8.self)
    #expect(json.contains(#""class_counts":[3,3,3,3,3,3,3,3,3,3]"#))
    #expect(summary.text.contains("train: 30 images of 1×28×28"))
    #expect(formatFixed(0.28604, digits: 4) == "0.2860" && formatFixed(-1.5, digits: 1) == "-1.5")
}
