// Folder datasets: class folders to labels, train/test folders or a seeded split, colour decided over both splits,
// ?size= centre-crop + resize, and every bad folder an error naming the path.
import Foundation
import Testing
@testable import Data

/// DIR/<class>/<i>.png: `counts[class]` grey 4×4 images, image i of class c filled with 10·c + i.
private func makeClassFolders(_ root: String, classes: [String], counts: [Int]) throws {
    for (c, name) in classes.enumerated() {
        try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        for i in 0..<counts[c] {
            try writeGreyPNG(root + "/\(name)/\(String(format: "%03d", i)).png", width: 4, height: 4, value: 10 * c + i)
        }
    }
}

@Test func classFoldersBecomeLabelsWithASeededSplit() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try makeClassFolders(folder.path, classes: ["cat", "ant", "bee"], counts: [10, 5, 1])
    try "not a class".write(toFile: folder.file("README.txt"), atomically: true, encoding: .utf8)
    try writeBytes([1, 2, 3], to: folder.file("ant/.DS_Store"))  // hidden files are skipped

    let spec = try DatasetSpec(parsing: "folder:\(folder.path)")
    let train = try spec.load(split: .train, seed: 7), test = try spec.load(split: .test, seed: 7)
    #expect(train.classNames == ["ant", "bee", "cat"])
    #expect(train.channels == 1 && train.height == 4 && train.width == 4)
    // ⌊n/5⌋ test images per class, at least one when n ≥ 2: ant 5 → 1, bee 1 → 0, cat 10 → 2.
    #expect(test.classCounts == [1, 0, 2])
    #expect(train.classCounts == [4, 1, 8])
    // Every image lands in exactly one split: the fill values (10·c + i, c in folder order) cover each folder.
    func values(_ d: Dataset) -> [Int] { (0..<d.count).map { Int((d.image($0).first! * 255).rounded()) } }
    #expect(Set(values(train)).union(values(test)) == Set([10, 11, 12, 13, 14, 20] + (0..<10).map { $0 }))
    #expect(Set(values(train)).isDisjoint(with: values(test)))
    // The split is a function of the seed.
    #expect(try values(spec.load(split: .test, seed: 7)) == values(test))
    let other = (1...20).contains { seed in (try? values(spec.load(split: .test, seed: UInt64(seed)))) != values(test) }
    #expect(other)
}

@Test func trainAndTestFoldersAreUsedWhenBothExist() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try makeClassFolders(folder.path + "/train", classes: ["a", "b"], counts: [3, 2])
    try makeClassFolders(folder.path + "/test", classes: ["b", "c"], counts: [1, 1])
    let spec = try DatasetSpec(parsing: "folder:\(folder.path)")
    let train = try spec.load(split: .train, seed: 0), test = try spec.load(split: .test, seed: 0)
    #expect(train.classNames == ["a", "b", "c"] && test.classNames == train.classNames)
    #expect(train.labels == [0, 0, 0, 1, 1])
    #expect(test.labels == [1, 2])
}

@Test func oneColourImageMakesBothSplitsRGB() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try makeClassFolders(folder.path + "/train", classes: ["a"], counts: [2])
    try makeClassFolders(folder.path + "/test", classes: ["a"], counts: [1])
    let rgb = encodePNG(width: 4, height: 4, colourType: .rgb, bitDepth: 8,
                        samples: (0..<48).map { [200, 100, 50][$0 % 3] })
    try writeBytes(rgb, to: folder.path + "/test/a/colour.png")
    let train = try DatasetSpec(parsing: "folder:\(folder.path)").load(split: .train, seed: 0)
    #expect(train.channels == 3)
    // Grey images are replicated into the three channels.
    #expect(Array(train.image(1)) == [Float](repeating: 1 / 255, count: 48))
    let test = try DatasetSpec(parsing: "folder:\(folder.path)").load(split: .test, seed: 0)
    #expect(test.channels == 3)
    let colour = Array(test.image(1))
    #expect(colour[0] == 200 / 255 && colour[16] == 100 / 255 && colour[32] == 50 / 255)
}

@Test func sizeOptionCentreCropsAndResizes() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try folder.folder("x")
    // 12 wide × 6 high: the centred 6×6 square (columns 3...8) is 200, the rest 0.
    let wide = (0..<72).map { ($0 % 12 >= 3 && $0 % 12 <= 8) ? 200 : 0 }
    try writeBytes(encodePNG(width: 12, height: 6, colourType: .grey, bitDepth: 8, samples: wide),
                   to: folder.file("x/wide.png"))
    try writeGreyPNG(folder.file("x/small.png"), width: 2, height: 3, value: 90)
    try writeGreyPNG(folder.file("x/big.png"), width: 40, height: 40, value: 30)

    // Without size= the sizes clash.
    let error = dataError { _ = try DatasetSpec(parsing: "folder:\(folder.path)").load(split: .train, seed: 0) }
    guard case .mixedImageSizes? = error else { Issue.record("got \(String(describing: error))"); return }
    #expect("\(error!)".contains("?size=N"))

    let train = try DatasetSpec(parsing: "folder:\(folder.path)?size=5").load(split: .train, seed: 0)
    let test = try DatasetSpec(parsing: "folder:\(folder.path)?size=5").load(split: .test, seed: 0)
    #expect(train.height == 5 && train.width == 5 && train.count + test.count == 3)
    // Constant images stay constant when shrunk or enlarged; the wide image keeps only its bright centre.
    var byValue: [Int: [Float]] = [:]
    for dataset in [train, test] {
        for i in 0..<dataset.count { byValue[Int((dataset.image(i).max()! * 255).rounded())] = Array(dataset.image(i)) }
    }
    for value in [90, 30, 200] {
        let image = try #require(byValue[value])
        #expect(maxDifference(image, [Float](repeating: Float(value) / 255, count: 25)) < 1e-5)
    }
}

@Test func resizingAveragesWhenShrinking() {
    // A 4×4 checkerboard of 0 and 1 brought to 2×2 is grey everywhere (antialiased), not a sample of it.
    let board: [Float] = (0..<16).map { Float(($0 % 4 + $0 / 4) % 2) }
    let small = resizeCentreSquare(board, channels: 1, height: 4, width: 4, size: 2)
    #expect(small.allSatisfy { abs($0 - 0.5) < 0.13 })
    // Same size: an exact copy of the centred square.
    let rect: [Float] = (0..<12).map { Float($0) / 12 }  // 3 high × 4 wide
    #expect(resizeCentreSquare(rect, channels: 1, height: 3, width: 4, size: 3)
        == [0, 1, 2, 4, 5, 6, 8, 9, 10].map { Float($0) / 12 })
}

@Test func badFoldersAreErrorsNamingThePath() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    func load(_ path: String) throws { _ = try DatasetSpec(parsing: "folder:\(path)").load(split: .train, seed: 0) }

    #expect(throwsError(.missingFolder(path: folder.file("missing"))) { try load(folder.file("missing")) })
    let empty = try folder.folder("empty")
    #expect(throwsError(.noClassFolders(path: empty)) { try load(empty) })

    let root = try folder.folder("root")
    try makeClassFolders(root, classes: ["a"], counts: [3])
    let hollow = try folder.folder("root/b")
    #expect(throwsError(.emptyClassFolder(path: hollow)) { try load(root) })
    try writeBytes([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5], to: hollow + "/photo.jpg")
    #expect(throwsError(.notPNG(path: hollow + "/photo.jpg")) { try load(root) })
    try FileManager.default.removeItem(atPath: hollow + "/photo.jpg")

    let png = encodePNG(width: 4, height: 4, colourType: .grey, bitDepth: 8, samples: [Int](repeating: 9, count: 16))
    try writeBytes(Array(png[0..<(png.count - 20)]), to: hollow + "/cut.png")
    let error = dataError { try load(root) }
    guard case .corruptPNG(hollow + "/cut.png", _)? = error else { Issue.record("got \(String(describing: error))"); return }

    try writeGreyPNG(hollow + "/cut.png", width: 5, height: 4, value: 1)
    #expect(throwsError(.mixedImageSizes(firstPath: root + "/a/000.png", firstSize: "4×4",
                                         otherPath: hollow + "/cut.png", otherSize: "5×4")) { try load(root) })
}

@Test func aFolderMixingEveryColourTypeLoadsAsRGB() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let root = try folder.folder("train/mixed")
    try folder.folder("test/mixed")
    // 1×2 images (two pixels) of each PNG colour type and depth, with the RGB values they must decode to.
    let palette: [UInt8] = [10, 20, 30, 200, 100, 0]
    let cases: [(String, [UInt8], [Float])] = [
        ("grey8", encodePNG(width: 2, height: 1, colourType: .grey, bitDepth: 8, samples: [0, 255]), [0, 255, 0, 255, 0, 255]),
        ("grey16", encodePNG(width: 2, height: 1, colourType: .grey, bitDepth: 16, samples: [0, 65535]), [0, 255, 0, 255, 0, 255]),
        ("grey4", encodePNG(width: 2, height: 1, colourType: .grey, bitDepth: 4, samples: [5, 10]), [85, 170, 85, 170, 85, 170]),
        ("greyalpha8", encodePNG(width: 2, height: 1, colourType: .greyAlpha, bitDepth: 8, samples: [40, 0, 80, 255]),
         [40, 80, 40, 80, 40, 80]),
        ("rgb8", encodePNG(width: 2, height: 1, colourType: .rgb, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6]), [1, 4, 2, 5, 3, 6]),
        ("rgb16", encodePNG(width: 2, height: 1, colourType: .rgb, bitDepth: 16,
                            samples: [257, 514, 771, 65535, 0, 25700]), [1, 255, 2, 0, 3, 100]),
        ("rgba8", encodePNG(width: 2, height: 1, colourType: .rgba, bitDepth: 8, samples: [9, 8, 7, 0, 6, 5, 4, 128]),
         [9, 6, 8, 5, 7, 4]),
        ("rgba16", encodePNG(width: 2, height: 1, colourType: .rgba, bitDepth: 16,
                             samples: [65535, 0, 0, 65535, 0, 65535, 0, 32768]), [255, 0, 0, 255, 0, 0]),
        ("palette", encodePNG(width: 2, height: 1, colourType: .palette, bitDepth: 8, samples: [1, 0], palette: palette),
         [200, 10, 100, 20, 0, 30]),
    ]
    for (name, png, _) in cases { try writeBytes(png, to: root + "/\(name).png") }
    try writeBytes(cases[0].1, to: folder.file("test/mixed/only.png"))
    let train = try DatasetSpec(parsing: "folder:\(folder.path)").load(split: .train, seed: 0)
    #expect(train.channels == 3 && train.height == 1 && train.width == 2 && train.count == cases.count)
    // Files load in name order.
    for (index, (_, _, expected)) in cases.sorted(by: { $0.0 < $1.0 }).enumerated() {
        #expect(Array(train.image(index)) == expected.map { $0 / 255 }, "\(cases.sorted { $0.0 < $1.0 }[index].0)")
    }
}
