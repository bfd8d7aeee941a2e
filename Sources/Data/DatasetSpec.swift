// DatasetSpec: the one string that selects a dataset everywhere (command line and configs), and loading it.
//
// Grammar: `KIND[:ARGUMENT][?KEY=VALUE[&KEY=VALUE...]]`
//   fashion-mnist[:DIR]   IDX files (gzipped or not); DIR defaults to /usr/share/datasets/fashion-mnist
//   mnist:DIR             IDX files, digit classes "0"..."9"
//   cifar10:DIR           data_batch_1..5.bin + test_batch.bin
//   cifar100:DIR          train.bin + test.bin (fine labels as classes, coarse labels kept)
//   folder:DIR            one sub-folder of PNGs per class; option size=N (centre-crop + resize to N×N)
//   synthetic[:N]         N training images (default 2000) of ten procedural classes; options size=S (default 28),
//                         channels=1|3 (default 1)
//   limit=N               on any kind: a class-balanced seeded subset of N images of each split
// The spec is Codable as its canonical string (`description`), so configs hold e.g. "fashion-mnist?limit=2000".
// Deliberately not here: downloading datasets, paths containing '?' (the option separator).
import Foundation

/// A parsed dataset spec string; `load(split:seed:)` reads or generates the images.
public struct DatasetSpec: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Where the images come from.
    public enum Source: Sendable, Equatable {
        /// Fashion-MNIST IDX files in `directory`.
        case fashionMNIST(directory: String)
        /// MNIST IDX files in `directory`.
        case mnist(directory: String)
        /// CIFAR-10 binary batches in `directory`.
        case cifar10(directory: String)
        /// CIFAR-100 binary files in `directory`.
        case cifar100(directory: String)
        /// One sub-folder of PNG images per class; `size` centre-crops and resizes every image to size×size.
        case folder(directory: String, size: Int?)
        /// `count` procedural training images of channels × size × size.
        case synthetic(count: Int, size: Int, channels: Int)
    }

    /// Where the images come from.
    public var source: Source
    /// When set, each split is reduced to a class-balanced seeded subset of this many images (must be > 0).
    public var limit: Int?

    /// Where the Debian package `dataset-fashion-mnist` installs its files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    /// Training images of `synthetic` without a count.
    public static let defaultSyntheticCount = 2000
    /// Image side of `synthetic` without `size=`.
    public static let defaultSyntheticSize = 28

    /// A spec from its parts. `limit`, when given, must be > 0 (not checked here; `init(parsing:)` checks it).
    public init(source: Source, limit: Int? = nil) {
        self.source = source
        self.limit = limit
    }

    /// Parses a spec string (grammar in the file header). Throws `DataError.invalidSpec` saying what is wrong.
    public init(parsing text: String) throws {
        let spec = text.trimmingCharacters(in: .whitespaces)
        func fail(_ problem: String) -> DataError { DataError.invalidSpec(spec: text, problem: problem) }
        if spec.isEmpty {
            throw fail("empty; expected one of fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, "
                + "folder:DIR, synthetic[:N]")
        }
        var head = spec, query = ""
        if let mark = spec.firstIndex(of: "?") {
            head = String(spec[..<mark])
            query = String(spec[spec.index(after: mark)...])
        }
        var kind = head, argument: String?
        if let colon = head.firstIndex(of: ":") {
            kind = String(head[..<colon])
            argument = String(head[head.index(after: colon)...])
        }

        // Options.
        var options: [String: String] = [:]
        if spec.contains("?") {
            for item in query.split(separator: "&", omittingEmptySubsequences: false) {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count != 2 || parts[0].isEmpty {
                    throw fail("option '\(item)' is not KEY=VALUE")
                }
                let key = String(parts[0])
                if options[key] != nil { throw fail("option '\(key)' is given twice") }
                options[key] = String(parts[1])
            }
        }
        func positiveInteger(_ key: String, maximum: Int) throws -> Int? {
            guard let value = options.removeValue(forKey: key) else { return nil }
            guard let number = Int(value), number > 0 else {
                throw fail("\(key) must be a positive whole number, got '\(value)'")
            }
            if number > maximum { throw fail("\(key) must be at most \(maximum), got \(number)") }
            return number
        }
        func folderArgument(_ name: String) throws -> String {
            guard let path = argument, !path.isEmpty else { throw fail("\(name) needs a folder: \(name):DIR") }
            return expandTilde(path)
        }
        limit = try positiveInteger("limit", maximum: Int(Int32.max))

        switch kind {
        case "fashion-mnist":
            if let path = argument, path.isEmpty { throw fail("fashion-mnist: needs a folder after the colon") }
            source = .fashionMNIST(directory: argument.map(expandTilde) ?? DatasetSpec.fashionMNISTDirectory)
        case "mnist":
            source = .mnist(directory: try folderArgument("mnist"))
        case "cifar10":
            source = .cifar10(directory: try folderArgument("cifar10"))
        case "cifar100":
            source = .cifar100(directory: try folderArgument("cifar100"))
        case "folder":
            let directory = try folderArgument("folder")
            source = .folder(directory: directory, size: try positiveInteger("size", maximum: 4096))
        case "synthetic":
            var count = DatasetSpec.defaultSyntheticCount
            if let value = argument {
                guard let number = Int(value), number > 0, number <= 10_000_000 else {
                    throw fail("synthetic:N needs a whole number of images in 1...10000000, got '\(value)'")
                }
                count = number
            }
            let size = try positiveInteger("size", maximum: 512) ?? DatasetSpec.defaultSyntheticSize
            if size < 8 { throw fail("size must be at least 8 for synthetic images, got \(size)") }
            var channels = 1
            if let value = options.removeValue(forKey: "channels") {
                guard value == "1" || value == "3" else { throw fail("channels must be 1 or 3, got '\(value)'") }
                channels = value == "3" ? 3 : 1
            }
            source = .synthetic(count: count, size: size, channels: channels)
        default:
            throw fail("unknown dataset '\(kind)'; expected fashion-mnist, mnist, cifar10, cifar100, folder or synthetic")
        }
        if let key = options.keys.sorted().first {
            let allowed: String
            switch kind {
            case "folder": allowed = "size, limit"
            case "synthetic": allowed = "size, channels, limit"
            default: allowed = "limit"
            }
            throw fail("unknown option '\(key)' for \(kind) (options: \(allowed))")
        }
    }

    /// The canonical spec string; `DatasetSpec(parsing: spec.description) == spec`.
    public var description: String {
        var text: String
        var options: [String] = []
        switch source {
        case let .fashionMNIST(directory):
            text = directory == DatasetSpec.fashionMNISTDirectory ? "fashion-mnist" : "fashion-mnist:\(directory)"
        case let .mnist(directory): text = "mnist:\(directory)"
        case let .cifar10(directory): text = "cifar10:\(directory)"
        case let .cifar100(directory): text = "cifar100:\(directory)"
        case let .folder(directory, size):
            text = "folder:\(directory)"
            if let size { options.append("size=\(size)") }
        case let .synthetic(count, size, channels):
            text = "synthetic:\(count)"
            if size != DatasetSpec.defaultSyntheticSize { options.append("size=\(size)") }
            if channels != 1 { options.append("channels=\(channels)") }
        }
        if let limit { options.append("limit=\(limit)") }
        return options.isEmpty ? text : text + "?" + options.joined(separator: "&")
    }

    /// Loads (or generates) one split.
    ///
    /// `seed` decides the folder datasets' train/test split, the synthetic images and the `limit` subset; pass the
    /// same seed for both splits (and, to compare runs on identical data, the same seed across runs).
    /// Throws `DataError` naming the file and the problem.
    public func load(split: Split, seed: UInt64) throws -> Dataset {
        var dataset: Dataset
        switch source {
        case let .fashionMNIST(directory):
            dataset = try loadIDXSplit(directory: directory, split: split, classNames: fashionMNISTClassNames)
        case let .mnist(directory):
            dataset = try loadIDXSplit(directory: directory, split: split, classNames: (0...9).map(String.init))
        case let .cifar10(directory):
            dataset = try loadCIFAR10Split(directory: directory, split: split)
        case let .cifar100(directory):
            dataset = try loadCIFAR100Split(directory: directory, split: split)
        case let .folder(directory, size):
            dataset = try loadImageFolder(directory: directory, size: size, split: split, seed: seed)
        case let .synthetic(count, size, channels):
            dataset = makeSyntheticSplit(count: count, size: size, channels: channels, split: split, seed: seed)
        }
        if dataset.count == 0 { throw DataError.emptySplit(source: description, split: split.rawValue) }
        if let limit, limit < dataset.count { dataset = dataset.limited(to: limit, seed: seed) }
        return dataset
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try DatasetSpec(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Fashion-MNIST's class names, by label (Xiao, Rasul & Vollgraf 2017).
public let fashionMNISTClassNames = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

private func expandTilde(_ path: String) -> String {
    path.hasPrefix("~") ? NSString(string: path).expandingTildeInPath : path
}
