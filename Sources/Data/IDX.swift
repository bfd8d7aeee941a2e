// IDX files (LeCun's MNIST format, also Fashion-MNIST's): `train-images-idx3-ubyte[.gz]` and friends.
//
// Layout: a big-endian magic 0x0000 TT DD (TT = 0x08 for unsigned bytes, DD = number of dimensions), DD
// big-endian UInt32 sizes, then the bytes row-major. Images are 3-D (N, rows, columns), labels 1-D (N).
// Every inconsistency (magic, dimensions against the file size, counts, labels ≥ class count) is an error
// naming the file. Deliberately not here: IDX element types other than unsigned bytes (no dataset we read uses
// them), writing IDX (tests write their own).
import Foundation

/// The magic number of an IDX file of unsigned bytes with `dimensions` dimensions.
func idxMagic(dimensions: Int) -> UInt32 { 0x0000_0800 | UInt32(dimensions) }

/// An IDX file's sizes and the offset of its first data byte in `bytes`.
struct IDXFile {
    let bytes: [UInt8]
    let sizes: [Int]
    let dataOffset: Int
}

/// Reads and checks an IDX file of unsigned bytes with `dimensions` dimensions (gzipped or not).
func readIDX(_ path: String, dimensions: Int) throws -> IDXFile {
    let bytes = try readDataFile(path)
    let expected = idxMagic(dimensions: dimensions)
    if bytes.count < 4 {
        throw DataError.badIDXDimensions(path: path, problem: "the file holds only \(bytes.count) bytes, "
            + "too few for an IDX header")
    }
    let magic = bigEndianUInt32(bytes, at: 0)
    if magic != expected { throw DataError.badIDXMagic(path: path, found: magic, expected: expected) }
    let headerSize = 4 + 4 * dimensions
    if bytes.count < headerSize {
        throw DataError.badIDXDimensions(path: path, problem: "the file holds only \(bytes.count) bytes, too few for "
            + "a header of \(dimensions) dimensions (\(headerSize) bytes)")
    }
    var sizes: [Int] = []
    var product = 1
    for d in 0..<dimensions {
        let size = Int(bigEndianUInt32(bytes, at: 4 + 4 * d))
        if size == 0 { throw DataError.badIDXDimensions(path: path, problem: "dimension \(d) is 0") }
        let (next, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { throw DataError.badIDXDimensions(path: path, problem: "the sizes overflow") }
        product = next
        sizes.append(size)
    }
    let dataSize = bytes.count - headerSize
    if dataSize != product {
        let shape = sizes.map(String.init).joined(separator: "×")
        throw DataError.badIDXDimensions(path: path, problem: "the header describes \(shape) = \(product) bytes of "
            + "data but the file holds \(dataSize)")
    }
    return IDXFile(bytes: bytes, sizes: sizes, dataOffset: headerSize)
}

/// One split of an MNIST-layout folder: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.
func loadIDXSplit(directory: String, split: Split, classNames: [String]) throws -> Dataset {
    try requireFolder(directory)
    let prefix = split == .train ? "train" : "t10k"
    let imagesPath = try findFile(in: directory, candidates: ["\(prefix)-images-idx3-ubyte.gz",
                                                              "\(prefix)-images-idx3-ubyte",
                                                              "\(prefix)-images.idx3-ubyte"])
    let labelsPath = try findFile(in: directory, candidates: ["\(prefix)-labels-idx1-ubyte.gz",
                                                              "\(prefix)-labels-idx1-ubyte",
                                                              "\(prefix)-labels.idx1-ubyte"])
    let images = try readIDX(imagesPath, dimensions: 3)
    let labels = try readIDX(labelsPath, dimensions: 1)
    let count = images.sizes[0], height = images.sizes[1], width = images.sizes[2]
    if labels.sizes[0] != count {
        throw DataError.countMismatch(imagesPath: imagesPath, imageCount: count,
                                      labelsPath: labelsPath, labelCount: labels.sizes[0])
    }
    var labelValues = [Int32](repeating: 0, count: count)
    for i in 0..<count {
        let label = Int(labels.bytes[labels.dataOffset + i])
        if label >= classNames.count {
            throw DataError.labelOutOfRange(path: labelsPath, index: i, label: label, classCount: classNames.count)
        }
        labelValues[i] = Int32(label)
    }
    let pixels = bytesToUnitFloats(images.bytes, offset: images.dataOffset, count: count * height * width)
    let statistics = channelStatistics(pixels, channels: 1, plane: height * width)
    return Dataset(images: pixels, labels: labelValues, classNames: classNames, split: split,
                   channels: 1, height: height, width: width, coarseLabels: nil, coarseClassNames: nil,
                   mean: statistics.mean, std: statistics.std)
}

/// `count` bytes from `offset` as Floats divided by 255.
func bytesToUnitFloats(_ bytes: [UInt8], offset: Int, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        bytes.withUnsafeBufferPointer { source in
            for i in 0..<count { buffer[i] = Float(source[offset + i]) / 255 }
        }
        initialized = count
    }
}

func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
        | UInt32(bytes[offset + 3])
}

/// Throws `missingFolder` unless `path` is an existing folder.
func requireFolder(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) || !isDirectory.boolValue {
        throw DataError.missingFolder(path: path)
    }
}

/// The first of `candidates` that exists in `directory`; `missingFile` naming the first candidate otherwise.
func findFile(in directory: String, candidates: [String]) throws -> String {
    for name in candidates {
        let path = joinPath(directory, name)
        if FileManager.default.fileExists(atPath: path) { return path }
    }
    throw DataError.missingFile(path: joinPath(directory, candidates[0]),
                                alternatives: candidates.dropFirst().map { joinPath(directory, $0) })
}

/// `directory/name` without doubling the slash.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
