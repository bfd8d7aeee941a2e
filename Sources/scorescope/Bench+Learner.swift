// `scorescope bench learner`: the InfoNCE + FT block alone and whole MoCo learner steps (random inputs), with
// and without the feature transformations, as JSON lines. The timing lives in Contrastive (LearnerBenchmark).
import ArgumentParser
import Foundation
import NN
import Contrastive

struct BenchLearner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learner",
        abstract: "Time the InfoNCE + FT block and MoCo learner steps, FT off vs on (JSON lines)."
    )

    @Option(help: "Images per batch.")
    var batch: Int = 256

    @Option(help: "Queue size K.")
    var queue: Int = 4096

    @Option(help: "Encoder.")
    var encoder: EncoderKind = .convnetS

    @Option(help: "Split-BN groups (the batch must be divisible by it).")
    var groups: Int = 8

    @Option(help: "Timed repeats per measurement (the median is printed), after warm-up.")
    var repeats: Int = 20

    @OptionGroup var workers: BenchThreads
    var threads: Int { workers.threads }

    @Flag(help: "Time only the InfoNCE + FT block (skip the learner steps).")
    var blockOnly = false

    func validate() throws {
        if batch < 2 { throw ValidationError("--batch must be at least 2, got \(batch)") }
        if queue < batch { throw ValidationError("--queue must be at least --batch \(batch), got \(queue)") }
        if groups < 1 || batch % groups != 0 || batch / groups < 2 {
            throw ValidationError("--groups must divide --batch \(batch) into groups of at least 2, got \(groups)")
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    func run() throws {
        let context = ComputeContext(threads: threads)
        let variants: [(String, FeatureTransformOptions)] = [
            ("off", .off), ("posneg", .paper),
            ("posneg-union", FeatureTransformOptions(positive: .extrapolate, negative: .interpolate, queueMode: .union)),
        ]
        for (name, transform) in variants {
            let ms = benchmarkInfoNCE(batch: batch, queueSize: queue, dimension: 128, transform: transform,
                                      repeats: repeats, threads: threads)
            print(#"{"bench":"infonce","ft":"\#(name)","batch":\#(batch),"queue":\#(queue),"threads":\#(threads),"ms":\#(String(format: "%.3f", ms))}"#)
        }
        if blockOnly { return }
        for (name, transform) in variants.prefix(2) {
            let configuration = MoCoConfiguration(model: ModelSpec(encoder: encoder),
                                                  queueSize: queue, batchNormGroups: groups, transform: transform)
            let ms = benchmarkLearnerStep(configuration: configuration, batch: batch, repeats: repeats, context: context)
            print(#"{"bench":"learner_step","ft":"\#(name)","encoder":"\#(encoder.rawValue)","batch":\#(batch),"queue":\#(queue),"threads":\#(threads),"ms_per_iter":\#(String(format: "%.2f", ms))}"#)
        }
    }
}
