// CIFAR-10 and CIFAR-100 binary records: round trips through files the tests write, class names, and bad files.
import Foundation
import Testing
@testable import Data

@Test func cifar10RoundTripsInBatchOrder() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    // Batch b holds two records with labels b and 9 − b; items numbered across batches.
    var expectedLabels: [Int32] = []
    for b in 1...5 {
        let labels: [[UInt8]] = [[UInt8(b)], [UInt8(9 - b)]]
        try writeBytes(cifarRecords(labels: labels, firstItem: 2 * (b - 1)), to: folder.file("data_batch_\(b).bin"))
        expectedLabels += [Int32(b), Int32(9 - b)]
    }
    try writeBytes(cifarRecords(labels: [[3]]), to: folder.file("test_batch.bin"))

    let spec = try DatasetSpec(parsing: "cifar10:\(folder.path)")
    let train = try spec.load(split: .train, seed: 0)
    #expect(train.count == 10 && train.channels == 3 && train.height == 32 && train.width == 32)
    #expect(train.labels == expectedLabels)
    #expect(train.classNames == cifar10ClassNames)
    #expect(train.coarseLabels == nil)
    // Record i's pixel j (channel-major, as stored) is (i·13 + j) mod 256.
    for i in [0, 3, 9] {
        let image = Array(train.image(i))
        #expect(image == expectedCIFARPixels(item: i))
    }
    let test = try spec.load(split: .test, seed: 0)
    #expect(test.count == 1 && test.labels == [3])
}

@Test func cifar10ReadsClassNamesAndTheArchiveSubfolder() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let nested = try folder.folder("cifar-10-batches-bin")
    try writeBytes(cifarRecords(labels: [[1]]), to: nested + "/test_batch.bin")
    let names = (0..<10).map { "class\($0)" }
    try (names.joined(separator: "\n") + "\n\n").write(toFile: nested + "/batches.meta.txt", atomically: true,
                                                        encoding: .utf8)
    let test = try DatasetSpec(parsing: "cifar10:\(folder.path)").load(split: .test, seed: 0)
    #expect(test.classNames == names && test.labels == [1])
}

@Test func cifar100KeepsFineAndCoarseLabels() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try writeBytes(cifarRecords(labels: [[4, 99], [19, 0], [0, 57]]), to: folder.file("train.bin"))
    try writeBytes(cifarRecords(labels: [[7, 12]]), to: folder.file("test.bin"))
    let spec = try DatasetSpec(parsing: "cifar100:\(folder.path)")
    let train = try spec.load(split: .train, seed: 0)
    #expect(train.labels == [99, 0, 57])
    #expect(train.coarseLabels == [4, 19, 0])
    #expect(train.classNames.count == 100 && train.classNames[99] == "worm")
    #expect(train.coarseClassNames?.count == 20)
    #expect(Array(train.image(2)) == expectedCIFARPixels(item: 2))
    let test = try spec.load(split: .test, seed: 0)
    #expect(test.labels == [12] && test.coarseLabels == [7])
}

@Test func aCIFARFileThatIsNotWholeRecordsIsReported() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = folder.file("test_batch.bin")
    try writeBytes(cifarRecords(labels: [[1], [2]]) + [0, 0, 0], to: path)
    let spec = try DatasetSpec(parsing: "cifar10:\(folder.path)")
    #expect(throwsError(.partialRecord(path: path, size: 2 * 3073 + 3, recordSize: 3073)) {
        _ = try spec.load(split: .test, seed: 0)
    })
    #expect("\(DataError.partialRecord(path: path, size: 2 * 3073 + 3, recordSize: 3073))"
        .contains("2 records and 3 bytes left over"))
    try writeBytes([], to: path)
    #expect(throwsError(.partialRecord(path: path, size: 0, recordSize: 3073)) {
        _ = try spec.load(split: .test, seed: 0)
    })
    // A CIFAR-100 file is judged by CIFAR-100's record size.
    try writeBytes(cifarRecords(labels: [[1]]), to: folder.file("test.bin"))
    #expect(throwsError(.partialRecord(path: folder.file("test.bin"), size: 3073, recordSize: 3074)) {
        _ = try DatasetSpec(parsing: "cifar100:\(folder.path)").load(split: .test, seed: 0)
    })
}

@Test func aCIFARLabelBeyondTheClassesIsReported() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try writeBytes(cifarRecords(labels: [[1], [10]]), to: folder.file("test_batch.bin"))
    #expect(throwsError(.labelOutOfRange(path: folder.file("test_batch.bin"), index: 1, label: 10, classCount: 10)) {
        _ = try DatasetSpec(parsing: "cifar10:\(folder.path)").load(split: .test, seed: 0)
    })
    try writeBytes(cifarRecords(labels: [[20, 5]]), to: folder.file("test.bin"))
    #expect(throwsError(.labelOutOfRange(path: folder.file("test.bin") + " (coarse label)", index: 0, label: 20,
                                         classCount: 20)) {
        _ = try DatasetSpec(parsing: "cifar100:\(folder.path)").load(split: .test, seed: 0)
    })
}

@Test func aMissingCIFARBatchIsNamed() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try writeBytes(cifarRecords(labels: [[1]]), to: folder.file("data_batch_1.bin"))
    #expect(throwsError(.missingFile(path: folder.file("data_batch_2.bin"))) {
        _ = try DatasetSpec(parsing: "cifar10:\(folder.path)").load(split: .train, seed: 0)
    })
}
