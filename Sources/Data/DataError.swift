// DataError: every way a dataset spec, a data file or a loader setting can be wrong, as one typed error.
//
// Each message names the file (or the spec/option) and says what is wrong, so a user can fix it without reading
// code. Release builds compile `precondition` out, so every check of user input throws one of these instead.
// Deliberately not here: errors of other modules, or recovery (the caller decides whether to stop).
import Foundation

/// A bad dataset spec, a missing or malformed data file, or an invalid loader setting.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// The dataset spec string cannot be understood.
    case invalidSpec(spec: String, problem: String)
    /// A folder the spec points to does not exist (or is not a folder).
    case missingFolder(path: String)
    /// A required file does not exist (nor any of the other names it may have).
    case missingFile(path: String, alternatives: [String] = [])
    /// A file exists but cannot be read.
    case unreadableFile(path: String, problem: String)
    /// A file named `.gz` does not start with the gzip magic bytes.
    case notGzip(path: String)
    /// A gzip stream ends before its end marker (the file was cut short).
    case truncatedGzip(path: String)
    /// A gzip stream is damaged (zlib's message).
    case corruptGzip(path: String, problem: String)
    /// An IDX file whose magic number is not the expected one.
    case badIDXMagic(path: String, found: UInt32, expected: UInt32)
    /// An IDX file whose dimensions are unusable or disagree with its size.
    case badIDXDimensions(path: String, problem: String)
    /// The images file and the labels file hold different numbers of items.
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)
    /// A label is not below the number of classes.
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// A CIFAR file whose size is not a positive whole number of records.
    case partialRecord(path: String, size: Int, recordSize: Int)
    /// A class folder without any PNG image.
    case emptyClassFolder(path: String)
    /// An image folder without any class sub-folder.
    case noClassFolders(path: String)
    /// A file in a class folder that is not a PNG image.
    case notPNG(path: String)
    /// A PNG file that libpng cannot decode (libpng's message).
    case corruptPNG(path: String, problem: String)
    /// Two images of different sizes in a folder dataset without `?size=`.
    case mixedImageSizes(firstPath: String, firstSize: String, otherPath: String, otherSize: String)
    /// A split without any image.
    case emptySplit(source: String, split: String)
    /// A file could not be written.
    case writeFailed(path: String, problem: String)
    /// An augmentation setting is out of its range.
    case invalidAugmentation(problem: String)
    /// A loader setting (batch size, threads, dataset shape) is unusable.
    case invalidLoader(problem: String)

    public var description: String {
        switch self {
        case let .invalidSpec(spec, problem):
            return "dataset spec '\(spec)': \(problem)"
        case let .missingFolder(path):
            return path == DatasetSpec.fashionMNISTDirectory
                ? "\(path): no such folder (install the Debian package dataset-fashion-mnist, e.g. with `make setup`)"
                : "\(path): no such folder"
        case let .missingFile(path, alternatives):
            return alternatives.isEmpty ? "\(path): no such file"
                : "\(path): no such file (nor \(alternatives.joined(separator: " nor ")))"
        case let .unreadableFile(path, problem):
            return "\(path): cannot be read (\(problem))"
        case let .notGzip(path):
            return "\(path): is not a gzip file (it does not start with the gzip magic bytes 1f 8b)"
        case let .truncatedGzip(path):
            return "\(path): truncated gzip file (the compressed stream ends before its end marker)"
        case let .corruptGzip(path, problem):
            return "\(path): corrupt gzip data (\(problem))"
        case let .badIDXMagic(path, found, expected):
            return "\(path): wrong IDX magic number 0x\(hex(found)) (expected 0x\(hex(expected)))"
        case let .badIDXDimensions(path, problem):
            return "\(path): bad IDX dimensions: \(problem)"
        case let .countMismatch(imagesPath, imageCount, labelsPath, labelCount):
            return "\(imagesPath) holds \(imageCount) images but \(labelsPath) holds \(labelCount) labels"
        case let .labelOutOfRange(path, index, label, classCount):
            return "\(path): label \(label) of item \(index) is beyond the \(classCount) classes (0...\(classCount - 1))"
        case let .partialRecord(path, size, recordSize):
            return size == 0
                ? "\(path): empty file (expected records of \(recordSize) bytes)"
                : "\(path): size \(size) bytes is not a whole number of \(recordSize)-byte records "
                    + "(\(size / recordSize) records and \(size % recordSize) bytes left over)"
        case let .emptyClassFolder(path):
            return "\(path): class folder holds no PNG image"
        case let .noClassFolders(path):
            return "\(path): no class sub-folders (expected one folder of PNG images per class)"
        case let .notPNG(path):
            return "\(path): is not a PNG image (class folders may only hold PNG files)"
        case let .corruptPNG(path, problem):
            return "\(path): corrupt PNG image (libpng: \(problem))"
        case let .mixedImageSizes(firstPath, firstSize, otherPath, otherSize):
            return "images of different sizes: \(firstPath) is \(firstSize) but \(otherPath) is \(otherSize); "
                + "add ?size=N to the folder spec to centre-crop and resize every image to N×N"
        case let .emptySplit(source, split):
            return "\(source): the \(split) split holds no image"
        case let .writeFailed(path, problem):
            return "\(path): cannot be written (\(problem))"
        case let .invalidAugmentation(problem):
            return "augmentation: \(problem)"
        case let .invalidLoader(problem):
            return "loader: \(problem)"
        }
    }

    public var errorDescription: String? { description }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
