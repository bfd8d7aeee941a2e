// `scorescope bench data`: how long one two-view batch takes to build (load once, warm up, then time). JSON lines.
// Run it from a release build; the loader itself lives in the Data module.
import ArgumentParser
import Data
import Foundation

struct BenchData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Time two-view batch construction (crop, flip, jitter, blur, normalise) on a dataset."
    )

    @Option(name: .long, help: "Dataset spec.")
    var dataset: String = "fashion-mnist"

    @Option(name: .long, help: "Images per batch.")
    var batch: Int = 256

    @OptionGroup var workers: BenchThreads
    var threads: Int { workers.threads }

    @Option(name: .long, help: "Timed batches (after 3 warm-up batches).")
    var iterations: Int = 30

    @Option(name: .long, help: "Augmentation recipe: v1 or v2.")
    var recipe: String = "v2"

    func validate() throws {
        _ = try validatedSpec(dataset)
        if batch < 1 { throw ValidationError("--batch must be ≥ 1, got \(batch)") }
        if iterations < 1 { throw ValidationError("--iterations must be ≥ 1, got \(iterations)") }
        if AugmentationRecipe(rawValue: recipe) == nil {
            throw ValidationError("--recipe must be v1 or v2, got '\(recipe)'")
        }
    }

    func run() throws {
        let spec = try validatedSpec(dataset)
        let loadStart = DispatchTime.now()
        let train = try spec.load(split: .train, seed: 0)
        let loadMilliseconds = milliseconds(since: loadStart)
        print(#"{"bench":"load","dataset":"\#(spec)","images":\#(train.count),"ms":\#(format(loadMilliseconds))}"#)

        let augmentation = AugmentationConfig(recipe: AugmentationRecipe(rawValue: recipe) ?? .v2)
        let loader = try TwoViewLoader(dataset: train, batchSize: batch, augmentation: augmentation, seed: 0,
                                       threads: threads)
        let order = loader.order(epoch: 0)
        let batches = loader.batchesPerEpoch
        for index in 0..<min(3, batches) { _ = loader.batch(epoch: 0, index: index, order: order) }
        var times: [Double] = []
        for iteration in 0..<iterations {
            let start = DispatchTime.now()
            let result = loader.batch(epoch: 0, index: iteration % batches, order: order)
            times.append(milliseconds(since: start))
            if result.view1.isEmpty { print("empty batch") }  // keeps the work observable
        }
        times.sort()
        let median = times[times.count / 2]
        print(#"{"bench":"two_view_batch","batch":\#(batch),"ms":\#(format(median)),"min_ms":\#(format(times[0])),"#
            + #""threads":\#(threads),"recipe":"\#(recipe)","dataset":"\#(spec)","iterations":\#(iterations)}"#)
    }

    private func milliseconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}
