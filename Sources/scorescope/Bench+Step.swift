// `scorescope bench step [--ft]`: one training iteration of the default model (MoCo v2, convnet-s, B 256,
// K 4096, split BN, random inputs) as the trainer runs it: learner step + histogram filling + the step's store
// transaction; median over the repeats after warm-up (and the fastest one, `min_ms`), as one JSON line. The timing lives in Experiments
// (benchmarkTrainingStep).
import ArgumentParser
import Foundation
import NN
import Contrastive
import Experiments

struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Time one MoCo v2 training iteration (step + histograms + store), FT off or the paper's FT (JSON line).")

    @Flag(help: "With the paper's feature transformations (positive extrapolation + negative interpolation).")
    var ft = false

    @Option(help: "Images per batch.")
    var batch = 256

    @Option(help: "Queue size K.")
    var queue = 4096

    @Option(help: "Timed iterations (the median is printed), after 3 warm-up iterations.")
    var repeats = 20

    @OptionGroup var workers: BenchThreads
    var threads: Int { workers.threads }

    func validate() throws {
        if batch < 16 || batch % 8 != 0 { throw ValidationError("--batch must be a multiple of 8 (the split-BN groups) and at least 16, got \(batch)") }
        if queue < batch { throw ValidationError("--queue must be at least --batch \(batch), got \(queue)") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1, got \(repeats)") }
    }

    func run() throws {
        let result = try benchmarkTrainingStep(transform: ft ? .paper : .off, batch: batch, queueSize: queue,
                                               repeats: repeats, threads: threads)
        func ms(_ value: Double) -> String { String(format: "%.2f", value) }
        let variant = ft ? #","ft":"posneg""# : ""
        print(#"{"bench":"moco_step"\#(variant),"batch":\#(batch),"queue":\#(queue),"ms_per_iter":\#(ms(result.millisecondsPerIteration)),"min_ms":\#(ms(result.minimumMilliseconds)),"record_ms":\#(ms(result.recordMilliseconds)),"step_ms":\#(ms(result.stepMilliseconds)),"db_ms":\#(ms(result.databaseMilliseconds)),"cpu_ms_per_iter":\#(ms(result.cpuMillisecondsPerIteration)),"threads":\#(threads),"blas_core":"\#(blasCoreName())","cpu_level":"\#(CPULevel.compiled)"}"#)
    }
}
