// IDX files, raw and gzipped: round trips through files the tests write, and every bad input ends in a DataError
// naming the file.
import Foundation
import Testing
@testable import Data

@Test(arguments: [false, true])
func idxSplitsRoundTrip(gzip: Bool) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let trainLabels: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 3]
    let trainPixels = try writeIDXSplit(folder: folder.path, prefix: "train", count: 12, height: 4, width: 5,
                                        labels: trainLabels, gzip: gzip)
    try writeIDXSplit(folder: folder.path, prefix: "t10k", count: 3, height: 4, width: 5, labels: [7, 0, 1], gzip: gzip)

    let train = try DatasetSpec(parsing: "mnist:\(folder.path)").load(split: .train, seed: 0)
    #expect(train.count == 12 && train.channels == 1 && train.height == 4 && train.width == 5)
    #expect(train.labels == trainLabels.map(Int32.init))
    #expect(train.images == trainPixels.map { Float($0) / 255 })
    #expect(train.classNames == (0...9).map(String.init))
    #expect(train.split == .train)

    let test = try DatasetSpec(parsing: "fashion-mnist:\(folder.path)").load(split: .test, seed: 0)
    #expect(test.count == 3 && test.labels == [7, 0, 1])
    #expect(test.classNames[0] == "T-shirt/top" && test.classNames.count == 10)
}

@Test func aGzipFileIsReadWhateverItsName() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let bytes = idxBytes(sizes: [2], data: [3, 4])
    try writeBytes(gzipBytes(bytes), to: folder.file("labels"))
    #expect(try readDataFile(folder.file("labels")) == bytes)
    // Two concatenated gzip members decompress to the concatenation, as gzip -d does.
    try writeBytes(gzipBytes([1, 2]) + gzipBytes([3]), to: folder.file("two.gz"))
    #expect(try readDataFile(folder.file("two.gz")) == [1, 2, 3])
}

/// A folder holding a valid MNIST-layout train split, for breaking one file at a time.
private func validFolder() throws -> TemporaryFolder {
    let folder = try TemporaryFolder()
    try writeIDXSplit(folder: folder.path, prefix: "train", count: 6, height: 3, width: 3,
                      labels: [0, 1, 2, 3, 4, 5], gzip: true)
    return folder
}

private func loadTrain(_ folder: TemporaryFolder) throws {
    _ = try DatasetSpec(parsing: "mnist:\(folder.path)").load(split: .train, seed: 0)
}

@Test func aMissingFolderOrFileIsNamed() throws {
    #expect(throwsError(.missingFolder(path: "/nonexistent/mnist")) {
        _ = try DatasetSpec(parsing: "mnist:/nonexistent/mnist").load(split: .train, seed: 0)
    })
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let error = dataError { try loadTrain(folder) }
    #expect(error == .missingFile(path: folder.file("train-images-idx3-ubyte.gz"),
                                  alternatives: [folder.file("train-images-idx3-ubyte"),
                                                 folder.file("train-images.idx3-ubyte")]))
    #expect("\(error!)".hasPrefix(folder.file("train-images-idx3-ubyte.gz") + ": no such file (nor "))
}

@Test func aTruncatedGzipIsReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let path = folder.file("train-images-idx3-ubyte.gz")
    let whole = try readWholeFile(path)
    try writeBytes(Array(whole[0..<(whole.count / 2)]), to: path)
    #expect(throwsError(.truncatedGzip(path: path)) { try loadTrain(folder) })
    // Cut inside the 8-byte trailer: the data is complete but the CRC/length check is missing.
    try writeBytes(Array(whole[0..<(whole.count - 3)]), to: path)
    #expect(throwsError(.truncatedGzip(path: path)) { try loadTrain(folder) })
}

@Test func aGzipNameOnAFileThatIsNotGzipIsReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let path = folder.file("train-labels-idx1-ubyte.gz")
    try writeBytes(idxBytes(sizes: [6], data: [0, 1, 2, 3, 4, 5]), to: path)  // raw IDX under a .gz name
    #expect(throwsError(.notGzip(path: path)) { try loadTrain(folder) })
    #expect("\(DataError.notGzip(path: path))".contains("is not a gzip file"))
}

@Test func damagedGzipDataIsReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let path = folder.file("train-images-idx3-ubyte.gz")
    var bytes = try readWholeFile(path)
    bytes[bytes.count - 6] ^= 0xFF  // inside the CRC-32 of the trailer
    try writeBytes(bytes, to: path)
    let error = dataError { try loadTrain(folder) }
    guard case let .corruptGzip(errorPath, problem)? = error else {
        Issue.record("got \(String(describing: error))")
        return
    }
    #expect(errorPath == path && problem.contains("check"))
}

@Test func aWrongMagicNumberIsReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let path = folder.file("train-labels-idx1-ubyte.gz")
    try writeBytes(gzipBytes(idxBytes(sizes: [6], data: [0, 1, 2, 3, 4, 5], magic: 0x0000_0803)), to: path)
    #expect(throwsError(.badIDXMagic(path: path, found: 0x803, expected: 0x801)) { try loadTrain(folder) })
    #expect("\(DataError.badIDXMagic(path: path, found: 0x803, expected: 0x801))".contains("0x00000803"))
}

@Test func dimensionsThatDisagreeWithTheFileAreReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let path = folder.file("train-images-idx3-ubyte.gz")
    // Header says 6×3×4 but the data is 6×3×3.
    try writeBytes(gzipBytes(idxBytes(sizes: [6, 3, 4], data: [UInt8](repeating: 1, count: 54))), to: path)
    var error = dataError { try loadTrain(folder) }
    guard case let .badIDXDimensions(errorPath, problem)? = error else {
        Issue.record("got \(String(describing: error))")
        return
    }
    #expect(errorPath == path && problem.contains("6×3×4 = 72 bytes") && problem.contains("holds 54"))
    // A zero dimension, and a file too short for its header.
    try writeBytes(gzipBytes(idxBytes(sizes: [6, 0, 3], data: [])), to: path)
    error = dataError { try loadTrain(folder) }
    #expect(error == .badIDXDimensions(path: path, problem: "dimension 1 is 0"))
    try writeBytes(gzipBytes([0, 0, 8, 3, 0, 0]), to: path)
    error = dataError { try loadTrain(folder) }
    guard case .badIDXDimensions(path, _)? = error else { Issue.record("got \(String(describing: error))"); return }
}

@Test func imageAndLabelCountsThatDisagreeAreReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let labels = folder.file("train-labels-idx1-ubyte.gz")
    try writeBytes(gzipBytes(idxBytes(sizes: [5], data: [0, 1, 2, 3, 4])), to: labels)
    #expect(throwsError(.countMismatch(imagesPath: folder.file("train-images-idx3-ubyte.gz"), imageCount: 6,
                                       labelsPath: labels, labelCount: 5)) { try loadTrain(folder) })
}

@Test func aLabelBeyondTheClassCountIsReported() throws {
    let folder = try validFolder()
    defer { folder.remove() }
    let labels = folder.file("train-labels-idx1-ubyte.gz")
    try writeBytes(gzipBytes(idxBytes(sizes: [6], data: [0, 1, 2, 10, 4, 5])), to: labels)
    #expect(throwsError(.labelOutOfRange(path: labels, index: 3, label: 10, classCount: 10)) { try loadTrain(folder) })
}
