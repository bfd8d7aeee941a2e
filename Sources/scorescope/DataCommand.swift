// `scorescope data check|preview`: look at a dataset before training on it. Parsing and printing only; the
// loading, statistics and the preview grid live in the Data module.
import ArgumentParser
import Data
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Check a dataset spec, or preview the augmented views a learner will see.",
        discussion: """
        Dataset specs: fashion-mnist[:DIR], mnist:DIR, cifar10:DIR, cifar100:DIR, folder:DIR[?size=N],
        synthetic[:N][?size=S&channels=1|3]; append ?limit=N (or &limit=N) for a class-balanced subset of each split.
        """,
        subcommands: [DataCheck.self, DataPreview.self]
    )
}

/// Parses a spec for `validate()`, turning a spec error into a usage error.
func validatedSpec(_ text: String) throws -> DatasetSpec {
    do {
        return try DatasetSpec(parsing: text)
    } catch {
        throw ValidationError("--dataset: \(error)")
    }
}

struct DataCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load the train and test splits and print counts, classes, image shape and per-channel mean/std."
    )

    @Option(name: .long, help: "Dataset spec (see `scorescope data --help`).")
    var dataset: String = "fashion-mnist"

    @Option(name: .long, help: "Seed of folder splits, synthetic images and ?limit= subsets.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        _ = try validatedSpec(dataset)
    }

    func run() throws {
        let spec = try validatedSpec(dataset)
        let train = try spec.load(split: .train, seed: seed)
        let test = try spec.load(split: .test, seed: seed)
        let summary = DatasetSummary(spec: spec, train: train, test: test)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text)
        }
    }
}

struct DataPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write a PNG grid of training images (left) and their two augmented views."
    )

    @Option(name: .long, help: "Dataset spec (see `scorescope data --help`).")
    var dataset: String = "fashion-mnist"

    @Option(name: .long, help: "Output PNG file.")
    var out: String

    @Option(name: .long, help: "Number of images (rows), 1...64.")
    var count: Int = 8

    @Option(name: .long, help: "Seed of the epoch order and the augmentations (and of the dataset, as for check).")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Augmentation recipe: v1 or v2.")
    var recipe: String = "v2"

    func validate() throws {
        _ = try validatedSpec(dataset)
        if !(1...64).contains(count) { throw ValidationError("--count must be in 1...64, got \(count)") }
        if !out.lowercased().hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(out)'") }
        if AugmentationRecipe(rawValue: recipe) == nil {
            throw ValidationError("--recipe must be v1 or v2, got '\(recipe)'")
        }
    }

    func run() throws {
        let spec = try validatedSpec(dataset)
        let train = try spec.load(split: .train, seed: seed)
        let augmentation = AugmentationConfig(recipe: AugmentationRecipe(rawValue: recipe) ?? .v2)
        let preview = try renderPreview(dataset: train, count: min(count, train.count), augmentation: augmentation,
                                        seed: seed)
        try preview.write(to: out)
        print("wrote \(out): \(min(count, train.count)) images × (original, view 1, view 2), "
            + "\(preview.width)×\(preview.height) pixels")
    }
}
