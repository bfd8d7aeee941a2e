// CIFAR-10 and CIFAR-100 in their binary record formats (the "binary version" archives of Krizhevsky's page).
//
// CIFAR-10: `data_batch_1..5.bin` and `test_batch.bin`, records of 1 label byte + 3072 pixel bytes (1024 red,
// 1024 green, 1024 blue, rows of 32), i.e. already C×H×W. CIFAR-100: `train.bin` and `test.bin`, records of
// coarse label, fine label, 3072 pixel bytes; the fine label is the class, the coarse one is kept beside it.
// Class names come from `batches.meta.txt` / `fine_label_names.txt` when present, else the published lists.
// The folder may be the extracted archive's parent (with `cifar-10-batches-bin/` or `cifar-100-binary/` in it).
// Deliberately not here: the Python-pickle versions of the archives.
import Foundation

/// The published CIFAR-10 class names, by label.
let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

/// The published CIFAR-100 fine class names, by label.
let cifar100ClassNames = [
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket",
    "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
    "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
]

/// The published CIFAR-100 coarse (super-class) names, by coarse label.
let cifar100CoarseClassNames = [
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables", "household_electrical_devices",
    "household_furniture", "insects", "large_carnivores", "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes", "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates",
    "people", "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2",
]

/// CIFAR image geometry: 3×32×32.
let cifarPixelsPerImage = 3 * 32 * 32

/// One split of CIFAR-10 from its binary batches.
func loadCIFAR10Split(directory: String, split: Split) throws -> Dataset {
    let folder = try resolveCIFARFolder(directory, archiveFolder: "cifar-10-batches-bin")
    let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    let classNames = readClassNames(joinPath(folder, "batches.meta.txt"), expected: 10) ?? cifar10ClassNames
    return try loadCIFARRecords(paths: names.map { joinPath(folder, $0) }, labelBytes: 1,
                                classNames: classNames, coarseClassNames: nil, split: split)
}

/// One split of CIFAR-100 from `train.bin` / `test.bin` (fine labels as classes, coarse labels kept).
func loadCIFAR100Split(directory: String, split: Split) throws -> Dataset {
    let folder = try resolveCIFARFolder(directory, archiveFolder: "cifar-100-binary")
    let classNames = readClassNames(joinPath(folder, "fine_label_names.txt"), expected: 100) ?? cifar100ClassNames
    let coarseNames = readClassNames(joinPath(folder, "coarse_label_names.txt"), expected: 20)
        ?? cifar100CoarseClassNames
    return try loadCIFARRecords(paths: [joinPath(folder, split == .train ? "train.bin" : "test.bin")], labelBytes: 2,
                                classNames: classNames, coarseClassNames: coarseNames, split: split)
}

/// `directory` itself, or its `archiveFolder` sub-folder when that exists.
private func resolveCIFARFolder(_ directory: String, archiveFolder: String) throws -> String {
    try requireFolder(directory)
    let nested = joinPath(directory, archiveFolder)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue {
        return nested
    }
    return directory
}

/// The non-empty lines of a class-names file when it exists and holds exactly `expected` names.
private func readClassNames(_ path: String, expected: Int) -> [String]? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }
    return names.count == expected ? names : nil
}

/// Reads CIFAR records (`labelBytes` label bytes, then 3072 pixel bytes) from each file, in order.
/// With two label bytes the first is the coarse label and the second the class (CIFAR-100).
private func loadCIFARRecords(
    paths: [String], labelBytes: Int, classNames: [String], coarseClassNames: [String]?, split: Split
) throws -> Dataset {
    let recordSize = labelBytes + cifarPixelsPerImage
    var files: [(path: String, bytes: [UInt8])] = []
    var total = 0
    for path in paths {
        let bytes = try readWholeFile(path)
        if bytes.isEmpty || bytes.count % recordSize != 0 {
            throw DataError.partialRecord(path: path, size: bytes.count, recordSize: recordSize)
        }
        files.append((path, bytes))
        total += bytes.count / recordSize
    }
    var labels = [Int32](repeating: 0, count: total)
    var coarse = coarseClassNames == nil ? nil : [Int32](repeating: 0, count: total)
    var pixels = [Float](repeating: 0, count: total * cifarPixelsPerImage)
    var image = 0
    try pixels.withUnsafeMutableBufferPointer { destination in
        for file in files {
            let records = file.bytes.count / recordSize
            try file.bytes.withUnsafeBufferPointer { source in
                for record in 0..<records {
                    let start = record * recordSize
                    let label = Int(source[start + labelBytes - 1])
                    if label >= classNames.count {
                        throw DataError.labelOutOfRange(path: file.path, index: record, label: label,
                                                        classCount: classNames.count)
                    }
                    labels[image] = Int32(label)
                    if let coarseNames = coarseClassNames {
                        let coarseLabel = Int(source[start])
                        if coarseLabel >= coarseNames.count {
                            throw DataError.labelOutOfRange(path: file.path + " (coarse label)", index: record,
                                                            label: coarseLabel, classCount: coarseNames.count)
                        }
                        coarse?[image] = Int32(coarseLabel)
                    }
                    let from = start + labelBytes, to = image * cifarPixelsPerImage
                    for i in 0..<cifarPixelsPerImage { destination[to + i] = Float(source[from + i]) / 255 }
                    image += 1
                }
            }
        }
    }
    let statistics = channelStatistics(pixels, channels: 3, plane: 32 * 32)
    return Dataset(images: pixels, labels: labels, classNames: classNames, split: split,
                   channels: 3, height: 32, width: 32, coarseLabels: coarse, coarseClassNames: coarseClassNames,
                   mean: statistics.mean, std: statistics.std)
}
